""".NET: packages.lock.json (NuGet)."""
