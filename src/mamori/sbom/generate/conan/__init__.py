"""C and C++: conan.lock (Conan 1 graph lock and Conan 2 lock)."""
