"""PHP: composer.lock (Composer)."""
