"""The OpenAPI schema's shared parts: every operation documents the errors it can answer with,
and versioned records document If-Match."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter

ERROR = {
    "type": "object",
    "description": "What went wrong, in the request's language.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "`stale`, `protected`, `throttled`, …"},
    },
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Field name → its messages, in the request's language; `non_field_errors` for the record as "
        "a whole. Rows of a multi-row write are keyed by their index."
    ),
    # A body that cannot be parsed at all answers {"detail": "…"}.
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}

ERROR_DESCRIPTIONS = {
    "400": ("ValidationError", "The input (body or query) was refused; nothing changed."),
    "401": ("Error", "Not signed in: send a session cookie or `Authorization: Token …`."),
    "403": ("Error", "Your role or unit does not allow this."),
    "404": ("Error", "No such record (or page), or it is outside what you may read."),
    "409": ("Error", "Someone saved a newer version (`stale`), or the record is in use (`protected`)."),
    "412": ("Error", "If-Match did not match the record's current ETag."),
    "429": ("Error", "Too many requests: wait and retry (see Retry-After)."),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def _error_response(self, code: str) -> dict:
        name, description = ERROR_DESCRIPTIONS[code]
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            schema=VALIDATION_ERROR if name == "ValidationError" else ERROR,
            object=name,
        )
        self.registry.register_on_missing(component)
        return {"content": {"application/json": {"schema": component.ref}}, "description": description}

    def _error_codes(self) -> list[str]:
        # 404 too for lists: a page number past the end (DRF's paging), and any unknown address.
        codes = ["400", "401", "403", "404", "429"]
        if self.method in WRITES:
            codes.append("409")
        if self._versioned() and self.method in WRITES:
            codes.append("412")
        return codes

    def _versioned(self) -> bool:
        from core.api.base import VersionedMixin

        return isinstance(self.view, VersionedMixin) and "{" in self.path

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(code, self._error_response(code))
        return responses

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._versioned() and self.method in WRITES:
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    description=(
                        'The ETag the record was read with (e.g. `"3"`); instead of the body\'s '
                        "`version`. A mismatch answers 412."
                    ),
                )
            )
        return parameters


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
