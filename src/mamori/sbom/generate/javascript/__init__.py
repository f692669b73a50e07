"""JavaScript (npm) inputs for ``mamori sbom generate``: package-lock.json / npm-shrinkwrap.json
(``npm_lock``), yarn.lock classic and berry (``yarn``), pnpm-lock.yaml (``pnpm``) and package.json
(``manifest``). Shared conventions (purls, sources, hashes) are in ``common``; workspaces and
folder packages in ``lockgraph``."""
