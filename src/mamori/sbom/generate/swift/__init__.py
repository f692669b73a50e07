"""Swift: Package.resolved (SwiftPM)."""
