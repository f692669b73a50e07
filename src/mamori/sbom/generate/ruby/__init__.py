"""Ruby: Gemfile.lock (Bundler)."""
