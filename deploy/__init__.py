"""Running the portal in production: deploy/serve_prod.py (make serve-prod); see docs/deploy.md."""
