-- revision: 0020_Q_refusal_message

CREATE TABLE account_login_attempt (
	id INTEGER NOT NULL,
	at VARCHAR(32) NOT NULL,
	name VARCHAR(200) NOT NULL,
	remote_addr VARCHAR(64),
	success BOOLEAN NOT NULL,
	CONSTRAINT pk_account_login_attempt PRIMARY KEY (id)
);

CREATE INDEX ix_account_login_attempt_name_at ON account_login_attempt (name, at);

CREATE INDEX ix_account_login_attempt_remote_addr_at ON account_login_attempt (remote_addr, at);

CREATE TABLE account_oidc_state (
	state_sha256 VARCHAR(64) NOT NULL,
	code_verifier VARCHAR(200) NOT NULL,
	nonce VARCHAR(200) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_account_oidc_state PRIMARY KEY (state_sha256)
);

CREATE TABLE account_team (
	id INTEGER NOT NULL,
	name VARCHAR(200) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_account_team PRIMARY KEY (id),
	CONSTRAINT uq_account_team_name UNIQUE (name)
);

CREATE TABLE account_user (
	id INTEGER NOT NULL,
	name VARCHAR(200) NOT NULL,
	password_hash TEXT,
	oidc_subject VARCHAR(500),
	lang VARCHAR(8),
	disabled BOOLEAN NOT NULL,
	failed_logins INTEGER NOT NULL,
	locked_until VARCHAR(32),
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_account_user PRIMARY KEY (id),
	CONSTRAINT uq_account_user_name UNIQUE (name),
	CONSTRAINT uq_account_user_oidc_subject UNIQUE (oidc_subject)
);

CREATE TABLE affected_cpe (
	id INTEGER NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	source VARCHAR(200) NOT NULL,
	record_id VARCHAR(200) NOT NULL,
	origin VARCHAR(16) NOT NULL,
	position INTEGER NOT NULL,
	part VARCHAR(1) NOT NULL,
	vendor TEXT NOT NULL,
	product TEXT NOT NULL,
	cpe TEXT NOT NULL,
	version TEXT,
	start_including TEXT,
	start_excluding TEXT,
	end_including TEXT,
	end_excluding TEXT,
	version_type VARCHAR(32),
	status VARCHAR(16) NOT NULL,
	vulnerable BOOLEAN NOT NULL,
	CONSTRAINT pk_affected_cpe PRIMARY KEY (id)
);

CREATE INDEX ix_affected_cpe_vendor_product ON affected_cpe (vendor, product);

CREATE INDEX ix_affected_cpe_vuln_id ON affected_cpe (vuln_id);

CREATE TABLE affected_package (
	id INTEGER NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	source VARCHAR(200) NOT NULL,
	record_id VARCHAR(200) NOT NULL,
	origin VARCHAR(16) NOT NULL,
	position INTEGER NOT NULL,
	ecosystem VARCHAR(64) NOT NULL,
	ecosystem_variant VARCHAR(64) NOT NULL,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL,
	purl TEXT,
	CONSTRAINT pk_affected_package PRIMARY KEY (id)
);

CREATE INDEX ix_affected_package_ecosystem_name_key ON affected_package (ecosystem, name_key);

CREATE INDEX ix_affected_package_vuln_id ON affected_package (vuln_id);

CREATE TABLE alias (
	alias_key VARCHAR(200) NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	alias VARCHAR(200) NOT NULL,
	CONSTRAINT pk_alias PRIMARY KEY (alias_key, vuln_id)
);

CREATE INDEX ix_alias_vuln_id ON alias (vuln_id);

CREATE TABLE assessment (
	id INTEGER NOT NULL,
	framework VARCHAR(40) NOT NULL,
	catalog_version VARCHAR(20) NOT NULL,
	organization TEXT NOT NULL,
	roles VARCHAR(100) NOT NULL,
	scope TEXT NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	updated_at VARCHAR(32) NOT NULL,
	approver TEXT,
	declared_on VARCHAR(10),
	valid_from VARCHAR(10),
	valid_until VARCHAR(10),
	label_fields JSON,
	CONSTRAINT pk_assessment PRIMARY KEY (id)
);

CREATE TABLE audit_log (
	id INTEGER NOT NULL,
	at VARCHAR(32) NOT NULL,
	actor_kind VARCHAR(16) NOT NULL,
	actor_id INTEGER,
	actor VARCHAR(200) NOT NULL,
	action VARCHAR(64) NOT NULL,
	target TEXT,
	detail TEXT,
	remote_addr VARCHAR(64),
	team_id INTEGER,
	CONSTRAINT pk_audit_log PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_action ON audit_log (action);

CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE INDEX ix_audit_log_team_id ON audit_log (team_id);

CREATE TABLE bundle_trusted_key (
	id INTEGER NOT NULL,
	supplier VARCHAR(200) NOT NULL,
	key_id VARCHAR(128) NOT NULL,
	pem TEXT NOT NULL,
	added_at VARCHAR(32) NOT NULL,
	added_by VARCHAR(200) NOT NULL,
	CONSTRAINT pk_bundle_trusted_key PRIMARY KEY (id),
	CONSTRAINT uq_bundle_trusted_key UNIQUE (supplier, key_id)
);

CREATE INDEX ix_bundle_trusted_key_supplier ON bundle_trusted_key (supplier);

CREATE TABLE contract_terms (
	supplier VARCHAR(200) NOT NULL,
	terms JSON NOT NULL,
	source TEXT,
	set_at VARCHAR(32) NOT NULL,
	set_by TEXT,
	CONSTRAINT pk_contract_terms PRIMARY KEY (supplier)
);

CREATE TABLE coverage (
	source VARCHAR(200) NOT NULL,
	scope VARCHAR(64) NOT NULL,
	complete BOOLEAN NOT NULL,
	complete_at VARCHAR(32),
	complete_origin TEXT,
	partial_at VARCHAR(32),
	partial_origin TEXT,
	CONSTRAINT pk_coverage PRIMARY KEY (source, scope)
);

CREATE TABLE csaf_subscription (
	id INTEGER NOT NULL,
	metadata_url TEXT NOT NULL,
	given TEXT NOT NULL,
	found_by VARCHAR(16) NOT NULL,
	publisher TEXT NOT NULL,
	namespace TEXT NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	last_pull VARCHAR(32),
	counts TEXT NOT NULL,
	deviations TEXT NOT NULL,
	watermarks TEXT NOT NULL,
	CONSTRAINT pk_csaf_subscription PRIMARY KEY (id),
	CONSTRAINT uq_csaf_subscription_metadata_url UNIQUE (metadata_url)
);

CREATE TABLE epss (
	cve_id VARCHAR(32) NOT NULL,
	score FLOAT NOT NULL,
	percentile FLOAT NOT NULL,
	date VARCHAR(10),
	CONSTRAINT pk_epss PRIMARY KEY (cve_id)
);

CREATE TABLE job (
	id VARCHAR(64) NOT NULL,
	kind VARCHAR(40) NOT NULL,
	state VARCHAR(16) NOT NULL,
	dedup_key VARCHAR(200),
	attempts INTEGER NOT NULL,
	submitted_at VARCHAR(32) NOT NULL,
	started_at VARCHAR(32),
	finished_at VARCHAR(32),
	error TEXT,
	result TEXT,
	CONSTRAINT pk_job PRIMARY KEY (id)
);

CREATE INDEX ix_job_kind ON job (kind);

CREATE INDEX ix_job_state ON job (state);

CREATE TABLE job_dedup (
	"key" VARCHAR(200) NOT NULL,
	job_id VARCHAR(64),
	done_at VARCHAR(32) NOT NULL,
	result TEXT,
	CONSTRAINT pk_job_dedup PRIMARY KEY ("key")
);

CREATE TABLE kev (
	cve_id VARCHAR(32) NOT NULL,
	date_added VARCHAR(10),
	due_date VARCHAR(10),
	known_ransomware_use VARCHAR(16),
	doc BLOB NOT NULL,
	CONSTRAINT pk_kev PRIMARY KEY (cve_id)
);

CREATE TABLE knowledge_change (
	"key" VARCHAR(200) NOT NULL,
	token VARCHAR(32) NOT NULL,
	CONSTRAINT pk_knowledge_change PRIMARY KEY ("key")
);

CREATE TABLE notify_attempt (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	at VARCHAR(32) NOT NULL,
	channel VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	code INTEGER,
	error_class VARCHAR(64),
	events INTEGER NOT NULL,
	digest BOOLEAN NOT NULL,
	test BOOLEAN NOT NULL,
	CONSTRAINT pk_notify_attempt PRIMARY KEY (id)
);

CREATE INDEX ix_notify_attempt_subscription_id ON notify_attempt (subscription_id);

CREATE TABLE notify_event (
	id INTEGER NOT NULL,
	"key" VARCHAR(400) NOT NULL,
	kind VARCHAR(32) NOT NULL,
	product VARCHAR(200),
	release VARCHAR(100),
	vuln_id VARCHAR(200),
	severity VARCHAR(16),
	ssvc_outcome VARCHAR(32),
	kev BOOLEAN NOT NULL,
	payload TEXT NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_notify_event PRIMARY KEY (id),
	CONSTRAINT uq_notify_event_key UNIQUE ("key")
);

CREATE TABLE notify_finding_input (
	release_id INTEGER NOT NULL,
	match_id INTEGER NOT NULL,
	digest VARCHAR(32) NOT NULL,
	CONSTRAINT pk_notify_finding_input PRIMARY KEY (release_id, match_id)
);

CREATE TABLE notify_finding_state (
	"key" VARCHAR(40) NOT NULL,
	kev BOOLEAN NOT NULL,
	epss FLOAT,
	ssvc_outcome VARCHAR(32),
	CONSTRAINT pk_notify_finding_state PRIMARY KEY ("key")
);

CREATE TABLE notify_sbom_score (
	sbom_id INTEGER NOT NULL,
	score INTEGER NOT NULL,
	CONSTRAINT pk_notify_sbom_score PRIMARY KEY (sbom_id)
);

CREATE TABLE notify_watermark (
	name VARCHAR(32) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_notify_watermark PRIMARY KEY (name)
);

CREATE TABLE portfolio_component (
	id INTEGER NOT NULL,
	"key" VARCHAR(40) NOT NULL,
	ref TEXT NOT NULL,
	name TEXT NOT NULL,
	component_group TEXT,
	version TEXT,
	purl TEXT,
	purl_base TEXT,
	cpes TEXT,
	ecosystem VARCHAR(64),
	name_key TEXT,
	link_type VARCHAR(32),
	link_namespace TEXT,
	link_name TEXT,
	problem TEXT,
	matched_run INTEGER,
	source_name TEXT,
	source_version TEXT,
	source_name_key TEXT,
	CONSTRAINT pk_portfolio_component PRIMARY KEY (id),
	CONSTRAINT uq_portfolio_component_key UNIQUE ("key")
);

CREATE INDEX ix_portfolio_component_ecosystem_name_key ON portfolio_component (ecosystem, name_key);

CREATE INDEX ix_portfolio_component_ecosystem_source ON portfolio_component (ecosystem, source_name_key);

CREATE INDEX ix_portfolio_component_link ON portfolio_component (link_type, link_namespace, link_name);

CREATE TABLE portfolio_memo (
	name VARCHAR(200) NOT NULL,
	state VARCHAR(32) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_portfolio_memo PRIMARY KEY (name)
);

CREATE TABLE portfolio_record_seen (
	source VARCHAR(200) NOT NULL,
	record_id VARCHAR(200) NOT NULL,
	feed VARCHAR(32) NOT NULL,
	digest VARCHAR(32) NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	CONSTRAINT pk_portfolio_record_seen PRIMARY KEY (source, record_id, feed)
);

CREATE TABLE portfolio_run (
	id INTEGER NOT NULL,
	mode VARCHAR(16) NOT NULL,
	started_at VARCHAR(32) NOT NULL,
	finished_at VARCHAR(32),
	seconds FLOAT,
	done BOOLEAN NOT NULL,
	link_mark INTEGER,
	sbom_mark INTEGER,
	vulnerabilities INTEGER NOT NULL,
	components INTEGER NOT NULL,
	placements INTEGER NOT NULL,
	releases INTEGER NOT NULL,
	opened INTEGER NOT NULL,
	reopened INTEGER NOT NULL,
	resolved INTEGER NOT NULL,
	CONSTRAINT pk_portfolio_run PRIMARY KEY (id)
);

CREATE TABLE portfolio_ssvc_outcome (
	variant VARCHAR(64) NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	state VARCHAR(32) NOT NULL,
	outcome VARCHAR(32),
	CONSTRAINT pk_portfolio_ssvc_outcome PRIMARY KEY (variant, vuln_id)
);

CREATE TABLE product (
	id INTEGER NOT NULL,
	name VARCHAR(200) NOT NULL,
	supplier TEXT,
	created_at VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	CONSTRAINT pk_product PRIMARY KEY (id),
	CONSTRAINT uq_product_name UNIQUE (name)
);

CREATE TABLE psirt_case (
	id INTEGER NOT NULL,
	"key" VARCHAR(40) NOT NULL,
	state VARCHAR(24) NOT NULL,
	team VARCHAR(200),
	title TEXT NOT NULL,
	lang VARCHAR(8) NOT NULL,
	reporter_name TEXT,
	reporter_contact TEXT,
	credit VARCHAR(16) NOT NULL,
	channel VARCHAR(16) NOT NULL,
	channel_ref TEXT,
	coordinator VARCHAR(200),
	embargo_until VARCHAR(32),
	cve_id VARCHAR(40),
	component TEXT,
	affected_range TEXT,
	fixed_version VARCHAR(100),
	cwe VARCHAR(16),
	cvss_v3 VARCHAR(200),
	cvss_v4 VARCHAR(300),
	ssvc_outcome VARCHAR(32),
	ssvc TEXT,
	duplicate_of VARCHAR(40),
	texts TEXT NOT NULL,
	fix_url TEXT,
	received_at VARCHAR(32) NOT NULL,
	state_since VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	CONSTRAINT pk_psirt_case PRIMARY KEY (id),
	CONSTRAINT uq_psirt_case_key UNIQUE ("key")
);

CREATE INDEX ix_psirt_case_cve_id ON psirt_case (cve_id);

CREATE INDEX ix_psirt_case_state ON psirt_case (state);

CREATE TABLE psirt_timer (
	team VARCHAR(200) NOT NULL,
	timer VARCHAR(32) NOT NULL,
	days INTEGER NOT NULL,
	CONSTRAINT pk_psirt_timer PRIMARY KEY (team, timer)
);

CREATE TABLE purl_cpe (
	id INTEGER NOT NULL,
	purl_type VARCHAR(32) NOT NULL,
	purl_namespace TEXT NOT NULL,
	purl_name TEXT NOT NULL,
	purl TEXT NOT NULL,
	cpe_vendor TEXT NOT NULL,
	cpe_product TEXT NOT NULL,
	strength VARCHAR(8) DEFAULT 'weak' NOT NULL,
	rule VARCHAR(16) DEFAULT '' NOT NULL,
	CONSTRAINT pk_purl_cpe PRIMARY KEY (id),
	CONSTRAINT uq_purl_cpe_link UNIQUE (purl, cpe_vendor, cpe_product)
);

CREATE INDEX ix_purl_cpe_cpe_vendor_product ON purl_cpe (cpe_vendor, cpe_product);

CREATE INDEX ix_purl_cpe_purl_type_name ON purl_cpe (purl_type, purl_namespace, purl_name);

CREATE INDEX ix_purl_cpe_purl_type_squashed_name ON purl_cpe (purl_type, replace(replace(replace(lower(purl_name), '-', ''), '_', ''), '.', ''));

CREATE TABLE sbom_upload (
	id INTEGER NOT NULL,
	token VARCHAR(36) NOT NULL,
	product VARCHAR(200) NOT NULL,
	version VARCHAR(100) NOT NULL,
	auto_create BOOLEAN NOT NULL,
	file_name TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	state VARCHAR(16) NOT NULL,
	error TEXT,
	release_id INTEGER,
	sbom_id INTEGER,
	sbom_format VARCHAR(40),
	components INTEGER,
	open_findings INTEGER,
	unchanged BOOLEAN,
	submitted_at VARCHAR(32) NOT NULL,
	submitted_by VARCHAR(200) NOT NULL,
	started_at VARCHAR(32),
	finished_at VARCHAR(32),
	content BLOB,
	error_message TEXT,
	CONSTRAINT pk_sbom_upload PRIMARY KEY (id),
	CONSTRAINT uq_sbom_upload_token UNIQUE (token)
);

CREATE INDEX ix_sbom_upload_state ON sbom_upload (state);

CREATE TABLE source_record (
	source VARCHAR(200) NOT NULL,
	record_id VARCHAR(200) NOT NULL,
	feed VARCHAR(32) NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	modified VARCHAR(32),
	withdrawn VARCHAR(32),
	digest VARCHAR(32) NOT NULL,
	doc BLOB NOT NULL,
	CONSTRAINT pk_source_record PRIMARY KEY (source, record_id, feed)
);

CREATE INDEX ix_source_record_modified ON source_record (modified);

CREATE INDEX ix_source_record_source_vuln_id ON source_record (source, vuln_id, record_id, withdrawn);

CREATE INDEX ix_source_record_vuln_id ON source_record (vuln_id);

CREATE TABLE source_state (
	source VARCHAR(200) NOT NULL,
	updated_at VARCHAR(32) NOT NULL,
	origin TEXT,
	cursor TEXT,
	CONSTRAINT pk_source_state PRIMARY KEY (source)
);

CREATE TABLE triage_record (
	id INTEGER NOT NULL,
	product VARCHAR(200) NOT NULL,
	release VARCHAR(100) NOT NULL,
	component_purl TEXT NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	status VARCHAR(24) NOT NULL,
	justification VARCHAR(64),
	responses VARCHAR(200),
	detail TEXT,
	who VARCHAR(200) NOT NULL,
	at VARCHAR(32) NOT NULL,
	version INTEGER NOT NULL,
	origin VARCHAR(8) DEFAULT 'user' NOT NULL,
	source TEXT,
	CONSTRAINT pk_triage_record PRIMARY KEY (id),
	CONSTRAINT uq_triage_record_subject_origin UNIQUE (product, release, component_purl, vuln_id, origin)
);

CREATE INDEX ix_triage_record_product_release ON triage_record (product, release);

CREATE TABLE vulnerability (
	id VARCHAR(200) NOT NULL,
	sources TEXT NOT NULL,
	published VARCHAR(32),
	modified VARCHAR(32),
	withdrawn VARCHAR(32),
	doc BLOB,
	CONSTRAINT pk_vulnerability PRIMARY KEY (id)
);

CREATE INDEX ix_vulnerability_modified ON vulnerability (modified);

CREATE TABLE account_api_key (
	id INTEGER NOT NULL,
	prefix VARCHAR(32) NOT NULL,
	secret_sha256 VARCHAR(64) NOT NULL,
	team_id INTEGER NOT NULL,
	role VARCHAR(32) NOT NULL,
	name VARCHAR(200),
	created_at VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	expires_at VARCHAR(32),
	last_used_at VARCHAR(32),
	revoked_at VARCHAR(32),
	CONSTRAINT pk_account_api_key PRIMARY KEY (id),
	CONSTRAINT uq_account_api_key_prefix UNIQUE (prefix),
	CONSTRAINT fk_account_api_key_team FOREIGN KEY(team_id) REFERENCES account_team (id)
);

CREATE TABLE account_membership (
	id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	role VARCHAR(32) NOT NULL,
	products TEXT,
	origin VARCHAR(8) NOT NULL,
	CONSTRAINT pk_account_membership PRIMARY KEY (id),
	CONSTRAINT uq_account_membership_user_team UNIQUE (user_id, team_id),
	CONSTRAINT fk_account_membership_user FOREIGN KEY(user_id) REFERENCES account_user (id),
	CONSTRAINT fk_account_membership_team FOREIGN KEY(team_id) REFERENCES account_team (id)
);

CREATE TABLE account_session (
	id_sha256 VARCHAR(64) NOT NULL,
	user_id INTEGER NOT NULL,
	csrf_token VARCHAR(64) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	last_seen_at VARCHAR(32) NOT NULL,
	expires_at VARCHAR(32) NOT NULL,
	remote_addr VARCHAR(64),
	CONSTRAINT pk_account_session PRIMARY KEY (id_sha256),
	CONSTRAINT fk_account_session_user FOREIGN KEY(user_id) REFERENCES account_user (id)
);

CREATE INDEX ix_account_session_user_id ON account_session (user_id);

CREATE TABLE account_team_product (
	team_id INTEGER NOT NULL,
	product_id INTEGER NOT NULL,
	CONSTRAINT pk_account_team_product PRIMARY KEY (team_id, product_id),
	CONSTRAINT fk_account_team_product_team FOREIGN KEY(team_id) REFERENCES account_team (id),
	CONSTRAINT fk_account_team_product_product FOREIGN KEY(product_id) REFERENCES product (id)
);

CREATE TABLE assessment_answer (
	assessment_id INTEGER NOT NULL,
	item_id VARCHAR(40) NOT NULL,
	status VARCHAR(20),
	level INTEGER,
	owner TEXT,
	due VARCHAR(10),
	reason TEXT,
	updated_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_assessment_answer PRIMARY KEY (assessment_id, item_id),
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE
);

CREATE TABLE assessment_evidence (
	id INTEGER NOT NULL,
	assessment_id INTEGER NOT NULL,
	item_id VARCHAR(40) NOT NULL,
	kind VARCHAR(10) NOT NULL,
	ref TEXT NOT NULL,
	artifact_kind VARCHAR(20),
	sha256 VARCHAR(64),
	size INTEGER,
	file_time VARCHAR(32),
	recorded_at VARCHAR(32) NOT NULL,
	note TEXT,
	CONSTRAINT pk_assessment_evidence PRIMARY KEY (id),
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE
);

CREATE INDEX ix_assessment_evidence_assessment_item ON assessment_evidence (assessment_id, item_id);

CREATE TABLE assessment_history (
	id INTEGER NOT NULL,
	assessment_id INTEGER NOT NULL,
	item_id VARCHAR(40),
	field VARCHAR(20) NOT NULL,
	old TEXT,
	new TEXT,
	at VARCHAR(32) NOT NULL,
	actor TEXT,
	via VARCHAR(10) NOT NULL,
	CONSTRAINT pk_assessment_history PRIMARY KEY (id),
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE
);

CREATE INDEX ix_assessment_history_assessment_id ON assessment_history (assessment_id);

CREATE TABLE assessment_owner (
	assessment_id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	product_id INTEGER,
	declaration JSON,
	declared_at VARCHAR(32),
	declared_by TEXT,
	published_at VARCHAR(32),
	published_by TEXT,
	CONSTRAINT pk_assessment_owner PRIMARY KEY (assessment_id),
	CONSTRAINT fk_assessment_owner_assessment FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE,
	CONSTRAINT fk_assessment_owner_team FOREIGN KEY(team_id) REFERENCES account_team (id),
	CONSTRAINT fk_assessment_owner_product FOREIGN KEY(product_id) REFERENCES product (id)
);

CREATE INDEX ix_assessment_owner_team_id ON assessment_owner (team_id);

CREATE TABLE assessment_proposal (
	id INTEGER NOT NULL,
	assessment_id INTEGER NOT NULL,
	item_id VARCHAR(40) NOT NULL,
	artifact_kind VARCHAR(20) NOT NULL,
	artifact_ref TEXT NOT NULL,
	sha256 VARCHAR(64),
	subject TEXT,
	suggested_status VARCHAR(20) NOT NULL,
	suggested_level INTEGER,
	reason JSON NOT NULL,
	state VARCHAR(10) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_assessment_proposal PRIMARY KEY (id),
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE
);

CREATE INDEX ix_assessment_proposal_assessment_state ON assessment_proposal (assessment_id, state);

CREATE TABLE bundle_import (
	id INTEGER NOT NULL,
	product_id INTEGER NOT NULL,
	release VARCHAR(100) NOT NULL,
	supplier VARCHAR(200) NOT NULL,
	bundle_sha256 VARCHAR(64) NOT NULL,
	statement_sha256 VARCHAR(64) NOT NULL,
	key_id VARCHAR(128) NOT NULL,
	imported_at VARCHAR(32) NOT NULL,
	imported_by VARCHAR(200) NOT NULL,
	findings TEXT NOT NULL,
	diff TEXT NOT NULL,
	CONSTRAINT pk_bundle_import PRIMARY KEY (id),
	CONSTRAINT fk_bundle_import_product FOREIGN KEY(product_id) REFERENCES product (id)
);

CREATE INDEX ix_bundle_import_product_id ON bundle_import (product_id);

CREATE TABLE bundle_job (
	id VARCHAR(36) NOT NULL,
	team_id INTEGER,
	submitted_by VARCHAR(200) NOT NULL,
	every_product BOOLEAN NOT NULL,
	bundle_sha256 VARCHAR(64) NOT NULL,
	size INTEGER NOT NULL,
	key_pem TEXT,
	dedup_key VARCHAR(200),
	state VARCHAR(16) NOT NULL,
	error TEXT,
	result TEXT,
	import_id INTEGER,
	submitted_at VARCHAR(32) NOT NULL,
	started_at VARCHAR(32),
	finished_at VARCHAR(32),
	content BLOB,
	error_message TEXT,
	CONSTRAINT pk_bundle_job PRIMARY KEY (id),
	CONSTRAINT fk_bundle_job_team FOREIGN KEY(team_id) REFERENCES account_team (id) ON DELETE CASCADE,
	CONSTRAINT uq_bundle_job_dedup_key UNIQUE (dedup_key)
);

CREATE INDEX ix_bundle_job_state ON bundle_job (state);

CREATE INDEX ix_bundle_job_team_id ON bundle_job (team_id);

CREATE TABLE contract_questionnaire (
	supplier VARCHAR(200) NOT NULL,
	framework VARCHAR(40) NOT NULL,
	assessment_id INTEGER NOT NULL,
	sent_at VARCHAR(32) NOT NULL,
	imported_at VARCHAR(32),
	CONSTRAINT pk_contract_questionnaire PRIMARY KEY (supplier, framework),
	CONSTRAINT fk_contract_questionnaire_assessment FOREIGN KEY(assessment_id) REFERENCES assessment (id) ON DELETE CASCADE
);

CREATE TABLE contract_team_terms (
	team_id INTEGER NOT NULL,
	supplier VARCHAR(200) NOT NULL,
	terms JSON NOT NULL,
	source TEXT,
	set_at VARCHAR(32) NOT NULL,
	set_by TEXT,
	CONSTRAINT pk_contract_team_terms PRIMARY KEY (team_id, supplier),
	FOREIGN KEY(team_id) REFERENCES account_team (id) ON DELETE CASCADE
);

CREATE TABLE csaf_advisory (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	url TEXT NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	tracking_id VARCHAR(200) NOT NULL,
	version VARCHAR(32) NOT NULL,
	current_release_date VARCHAR(40) NOT NULL,
	signature VARCHAR(16) NOT NULL,
	pulled_at VARCHAR(32) NOT NULL,
	doc BLOB NOT NULL,
	CONSTRAINT pk_csaf_advisory PRIMARY KEY (id),
	CONSTRAINT uq_csaf_advisory_subscription_id_url UNIQUE (subscription_id, url),
	FOREIGN KEY(subscription_id) REFERENCES csaf_subscription (id) ON DELETE CASCADE
);

CREATE INDEX ix_csaf_advisory_subscription_id ON csaf_advisory (subscription_id);

CREATE TABLE csaf_subscription_key (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	fingerprint VARCHAR(64) NOT NULL,
	armored TEXT NOT NULL,
	CONSTRAINT pk_csaf_subscription_key PRIMARY KEY (id),
	CONSTRAINT uq_csaf_subscription_key_subscription_id_fingerprint UNIQUE (subscription_id, fingerprint),
	FOREIGN KEY(subscription_id) REFERENCES csaf_subscription (id) ON DELETE CASCADE
);

CREATE TABLE csaf_subscription_team (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	CONSTRAINT pk_csaf_subscription_team PRIMARY KEY (id),
	CONSTRAINT uq_csaf_subscription_team_subscription_id_team_id UNIQUE (subscription_id, team_id),
	FOREIGN KEY(subscription_id) REFERENCES csaf_subscription (id) ON DELETE CASCADE,
	FOREIGN KEY(team_id) REFERENCES account_team (id) ON DELETE CASCADE
);

CREATE INDEX ix_csaf_subscription_team_subscription_id ON csaf_subscription_team (subscription_id);

CREATE INDEX ix_csaf_subscription_team_team_id ON csaf_subscription_team (team_id);

CREATE TABLE csaf_subscription_team_key (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	fingerprint VARCHAR(64) NOT NULL,
	armored TEXT NOT NULL,
	CONSTRAINT pk_csaf_subscription_team_key PRIMARY KEY (id),
	CONSTRAINT uq_csaf_subscription_team_key_subscription_id_team_id_fingerprint UNIQUE (subscription_id, team_id, fingerprint),
	FOREIGN KEY(subscription_id) REFERENCES csaf_subscription (id) ON DELETE CASCADE,
	FOREIGN KEY(team_id) REFERENCES account_team (id) ON DELETE CASCADE
);

CREATE INDEX ix_csaf_subscription_team_key_subscription_id ON csaf_subscription_team_key (subscription_id);

CREATE INDEX ix_csaf_subscription_team_key_team_id ON csaf_subscription_team_key (team_id);

CREATE TABLE notify_subscription (
	id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	channel VARCHAR(16) NOT NULL,
	target TEXT NOT NULL,
	secret TEXT,
	products TEXT,
	min_severity VARCHAR(16),
	ssvc_outcomes TEXT,
	kev_only BOOLEAN NOT NULL,
	events TEXT,
	mode VARCHAR(16) NOT NULL,
	lang VARCHAR(8) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	CONSTRAINT pk_notify_subscription PRIMARY KEY (id),
	CONSTRAINT fk_notify_subscription_team FOREIGN KEY(team_id) REFERENCES account_team (id)
);

CREATE INDEX ix_notify_subscription_team_id ON notify_subscription (team_id);

CREATE TABLE portfolio_component_cpe (
	component_id INTEGER NOT NULL,
	vendor TEXT NOT NULL,
	product TEXT NOT NULL,
	CONSTRAINT pk_portfolio_component_cpe PRIMARY KEY (component_id, vendor, product),
	CONSTRAINT fk_portfolio_component_cpe_component FOREIGN KEY(component_id) REFERENCES portfolio_component (id)
);

CREATE INDEX ix_portfolio_component_cpe_vendor_product ON portfolio_component_cpe (vendor, product);

CREATE TABLE portfolio_match (
	id INTEGER NOT NULL,
	component_id INTEGER NOT NULL,
	vuln_id VARCHAR(200) NOT NULL,
	verdict VARCHAR(16) NOT NULL,
	aliases TEXT,
	method VARCHAR(24),
	confidence VARCHAR(8),
	detail TEXT NOT NULL,
	fixed TEXT,
	rating VARCHAR(16) NOT NULL,
	score FLOAT,
	digest VARCHAR(32) NOT NULL,
	CONSTRAINT pk_portfolio_match PRIMARY KEY (id),
	CONSTRAINT uq_portfolio_match_component_vuln UNIQUE (component_id, vuln_id),
	CONSTRAINT fk_portfolio_match_component FOREIGN KEY(component_id) REFERENCES portfolio_component (id)
);

CREATE INDEX ix_portfolio_match_vuln_id ON portfolio_match (vuln_id);

CREATE TABLE product_context (
	product_id INTEGER NOT NULL,
	point VARCHAR(64) NOT NULL,
	value VARCHAR(64) NOT NULL,
	reason TEXT,
	set_by VARCHAR(200) NOT NULL,
	set_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_product_context PRIMARY KEY (product_id, point),
	CONSTRAINT fk_product_context_product FOREIGN KEY(product_id) REFERENCES product (id)
);

CREATE TABLE product_release (
	id INTEGER NOT NULL,
	product_id INTEGER NOT NULL,
	version VARCHAR(100) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	current_sbom_id INTEGER,
	CONSTRAINT pk_product_release PRIMARY KEY (id),
	CONSTRAINT uq_product_release_version UNIQUE (product_id, version),
	CONSTRAINT fk_product_release_product FOREIGN KEY(product_id) REFERENCES product (id)
);

CREATE TABLE psirt_advisory_revision (
	id INTEGER NOT NULL,
	case_id INTEGER NOT NULL,
	number INTEGER NOT NULL,
	date VARCHAR(32) NOT NULL,
	status VARCHAR(16) NOT NULL,
	summary TEXT NOT NULL,
	who VARCHAR(200) NOT NULL,
	CONSTRAINT pk_psirt_advisory_revision PRIMARY KEY (id),
	CONSTRAINT uq_psirt_advisory_revision_number UNIQUE (case_id, number),
	CONSTRAINT fk_psirt_advisory_revision_case FOREIGN KEY(case_id) REFERENCES psirt_case (id)
);

CREATE TABLE psirt_case_event (
	id INTEGER NOT NULL,
	case_id INTEGER NOT NULL,
	at VARCHAR(32) NOT NULL,
	who VARCHAR(200) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	from_state VARCHAR(24),
	to_state VARCHAR(24),
	note TEXT,
	CONSTRAINT pk_psirt_case_event PRIMARY KEY (id),
	CONSTRAINT fk_psirt_case_event_case FOREIGN KEY(case_id) REFERENCES psirt_case (id)
);

CREATE INDEX ix_psirt_case_event_case_id ON psirt_case_event (case_id);

CREATE TABLE psirt_case_product (
	case_id INTEGER NOT NULL,
	product VARCHAR(200) NOT NULL,
	release VARCHAR(100) NOT NULL,
	status VARCHAR(24) NOT NULL,
	source VARCHAR(16) NOT NULL,
	component_version TEXT,
	set_by VARCHAR(200) NOT NULL,
	set_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_psirt_case_product PRIMARY KEY (case_id, product, release),
	CONSTRAINT fk_psirt_case_product_case FOREIGN KEY(case_id) REFERENCES psirt_case (id)
);

CREATE TABLE triage_history (
	id INTEGER NOT NULL,
	record_id INTEGER NOT NULL,
	version INTEGER NOT NULL,
	change VARCHAR(16) NOT NULL,
	status VARCHAR(24) NOT NULL,
	justification VARCHAR(64),
	responses VARCHAR(200),
	detail TEXT,
	who VARCHAR(200) NOT NULL,
	at VARCHAR(32) NOT NULL,
	source TEXT,
	CONSTRAINT pk_triage_history PRIMARY KEY (id),
	CONSTRAINT uq_triage_history_record_version UNIQUE (record_id, version),
	CONSTRAINT fk_triage_history_record_id FOREIGN KEY(record_id) REFERENCES triage_record (id)
);

CREATE TABLE bundle_document (
	id INTEGER NOT NULL,
	import_id INTEGER NOT NULL,
	name TEXT NOT NULL,
	kind VARCHAR(32) NOT NULL,
	media_type VARCHAR(100) NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	size INTEGER NOT NULL,
	content BLOB NOT NULL,
	CONSTRAINT pk_bundle_document PRIMARY KEY (id),
	CONSTRAINT fk_bundle_document_import FOREIGN KEY(import_id) REFERENCES bundle_import (id)
);

CREATE INDEX ix_bundle_document_import_id ON bundle_document (import_id);

CREATE TABLE csaf_advisory_team (
	id INTEGER NOT NULL,
	advisory_id INTEGER NOT NULL,
	team_id INTEGER NOT NULL,
	signature VARCHAR(16) NOT NULL,
	CONSTRAINT pk_csaf_advisory_team PRIMARY KEY (id),
	CONSTRAINT uq_csaf_advisory_team_advisory_id_team_id UNIQUE (advisory_id, team_id),
	FOREIGN KEY(advisory_id) REFERENCES csaf_advisory (id) ON DELETE CASCADE,
	FOREIGN KEY(team_id) REFERENCES account_team (id) ON DELETE CASCADE
);

CREATE INDEX ix_csaf_advisory_team_advisory_id ON csaf_advisory_team (advisory_id);

CREATE INDEX ix_csaf_advisory_team_team_id ON csaf_advisory_team (team_id);

CREATE TABLE deployment (
	id INTEGER NOT NULL,
	release_id INTEGER NOT NULL,
	site VARCHAR(200) NOT NULL,
	system VARCHAR(200),
	environment TEXT,
	system_exposure VARCHAR(32),
	mission_impact VARCHAR(32),
	safety_impact VARCHAR(32),
	network VARCHAR(200),
	owner TEXT,
	deployed_since VARCHAR(10),
	end_of_support VARCHAR(10),
	status VARCHAR(16) NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	updated_at VARCHAR(32) NOT NULL,
	retired_at VARCHAR(32),
	CONSTRAINT pk_deployment PRIMARY KEY (id),
	CONSTRAINT fk_deployment_release FOREIGN KEY(release_id) REFERENCES product_release (id)
);

CREATE INDEX ix_deployment_release_id ON deployment (release_id);

CREATE INDEX ix_deployment_site ON deployment (site);

CREATE TABLE notify_delivery (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	event_id INTEGER NOT NULL,
	state VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	next_at VARCHAR(32) NOT NULL,
	sent_at VARCHAR(32),
	created_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_notify_delivery PRIMARY KEY (id),
	CONSTRAINT uq_notify_delivery_subscription_event UNIQUE (subscription_id, event_id),
	CONSTRAINT fk_notify_delivery_subscription FOREIGN KEY(subscription_id) REFERENCES notify_subscription (id),
	CONSTRAINT fk_notify_delivery_event FOREIGN KEY(event_id) REFERENCES notify_event (id)
);

CREATE INDEX ix_notify_delivery_state ON notify_delivery (state, next_at);

CREATE TABLE portfolio_finding (
	release_id INTEGER NOT NULL,
	match_id INTEGER NOT NULL,
	first_run INTEGER NOT NULL,
	last_run INTEGER,
	resolved_run INTEGER,
	resolution VARCHAR(24),
	priority BLOB,
	CONSTRAINT pk_portfolio_finding PRIMARY KEY (release_id, match_id),
	CONSTRAINT fk_portfolio_finding_release FOREIGN KEY(release_id) REFERENCES product_release (id),
	CONSTRAINT fk_portfolio_finding_match FOREIGN KEY(match_id) REFERENCES portfolio_match (id)
);

CREATE INDEX ix_portfolio_finding_match_id ON portfolio_finding (match_id);

CREATE INDEX ix_portfolio_finding_open_priority ON portfolio_finding (priority) WHERE resolved_run IS NULL AND priority IS NOT NULL;

CREATE INDEX ix_portfolio_finding_open_release ON portfolio_finding (release_id) WHERE resolved_run IS NULL AND priority IS NOT NULL;

CREATE TABLE release_sbom (
	id INTEGER NOT NULL,
	release_id INTEGER NOT NULL,
	revision INTEGER NOT NULL,
	file_name TEXT NOT NULL,
	format VARCHAR(40) NOT NULL,
	spec_version VARCHAR(16),
	serial_number TEXT,
	sbom_timestamp VARCHAR(40),
	tools TEXT,
	sha256 VARCHAR(64) NOT NULL,
	size INTEGER NOT NULL,
	imported_at VARCHAR(32) NOT NULL,
	imported_by VARCHAR(200) NOT NULL,
	importer VARCHAR(64) NOT NULL,
	components INTEGER NOT NULL,
	content BLOB NOT NULL,
	CONSTRAINT pk_release_sbom PRIMARY KEY (id),
	CONSTRAINT uq_release_sbom_revision UNIQUE (release_id, revision),
	CONSTRAINT fk_release_sbom_release FOREIGN KEY(release_id) REFERENCES product_release (id)
);

CREATE INDEX ix_release_sbom_sha256 ON release_sbom (sha256);

CREATE TABLE release_support (
	release_id INTEGER NOT NULL,
	end_of_support VARCHAR(10) NOT NULL,
	source TEXT,
	set_by VARCHAR(200) NOT NULL,
	set_at VARCHAR(32) NOT NULL,
	CONSTRAINT pk_release_support PRIMARY KEY (release_id),
	CONSTRAINT fk_release_support_release FOREIGN KEY(release_id) REFERENCES product_release (id)
);

CREATE TABLE release_uuid (
	release_id INTEGER NOT NULL,
	uuid VARCHAR(36) NOT NULL,
	CONSTRAINT pk_release_uuid PRIMARY KEY (release_id),
	CONSTRAINT fk_release_uuid_release FOREIGN KEY(release_id) REFERENCES product_release (id),
	CONSTRAINT uq_release_uuid_uuid UNIQUE (uuid)
);

CREATE TABLE sbom_component (
	sbom_id INTEGER NOT NULL,
	component_id INTEGER NOT NULL,
	CONSTRAINT pk_sbom_component PRIMARY KEY (sbom_id, component_id),
	CONSTRAINT fk_sbom_component_sbom FOREIGN KEY(sbom_id) REFERENCES release_sbom (id),
	CONSTRAINT fk_sbom_component_component FOREIGN KEY(component_id) REFERENCES portfolio_component (id)
);

CREATE INDEX ix_sbom_component_component_id ON sbom_component (component_id);

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
