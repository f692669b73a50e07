"""OS package databases under ``--rootfs``: dpkg, apk and RPM (see rootfs.py)."""
