"""Pledge on the web: the JSON API (``api/``); the pages and the banner come later."""
