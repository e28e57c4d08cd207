"""Spiders of the backlinkspider project."""
