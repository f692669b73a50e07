"""Go: go.mod with go.sum, and the build information inside compiled Go programs."""
