"""Enterprises, visits and problem tickets through the API."""

ROUTES = []
