"""Dart and Flutter: pubspec.lock."""
