"""Java: Maven pom.xml (declared) and gradle.lockfile (locked)."""
