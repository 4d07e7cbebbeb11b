"""Public verification (no sign-in): the page a QR code opens, a form for a number or a pasted
code, the JSON API, and the published public keys."""
from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _

from ...core.errors import ApiError
from ...extensions import limiter
from .. import certificates, keys
from . import bp
from ..certificates import Verdict
from ..messages import INVALID_REASONS, REVOKED_HOW, STATUS
from ..payload import MAX_TOKEN_CHARS, token_from_text


def _verify_rate_limit():
    return current_app.config["LMS_VERIFY_RATE_LIMIT"]


def _page(verdict: Verdict | None, asked: str = "", status: int = 200):
    return render_template("hours/verify.html", verdict=verdict, asked=asked, status_text=STATUS,
                           invalid_reasons=INVALID_REASONS, revoked_how=REVOKED_HOW), status


@bp.route("/V/<path:token>")
@limiter.limit(_verify_rate_limit)
def verify_scanned(token):
    """What a phone opens from the QR code: the payload is the rest of the path."""
    return _page(certificates.verify_token(token[:MAX_TOKEN_CHARS + 1]))


@bp.route("/hours/verify")
@limiter.limit(_verify_rate_limit)
def verify_form():
    number, code = request.args.get("number", "").strip(), request.args.get("code", "").strip()
    if code:
        return _page(certificates.verify_token(token_from_text(code[:MAX_TOKEN_CHARS * 2])), asked=code)
    if number:
        return _page(certificates.verify_number(number[:64]), asked=number)
    return _page(None)


def _facts_json(facts) -> dict | None:
    if facts is None:
        return None
    data = facts.as_dict()
    for key in ("start", "completed", "issued_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


@bp.route("/hours/api/verify")
@limiter.limit(_verify_rate_limit)
def api_verify():
    """?payload=<code or verification URL> or ?number=<certificate number>."""
    code, number = request.args.get("payload", "").strip(), request.args.get("number", "").strip()
    if not code and not number:
        raise ApiError(400, "missing", _("Give the certificate's code (payload) or its number."))
    if code:
        verdict = certificates.verify_token(token_from_text(code[:MAX_TOKEN_CHARS * 2]))
    else:
        verdict = certificates.verify_number(number[:64])
    body = {"status": verdict.status, "reason": verdict.reason or None, "certificate": _facts_json(verdict.facts)}
    if verdict.certificate is not None and verdict.status == "revoked":
        body["revoked_at"] = verdict.certificate.revoked_at.isoformat() + "Z"
    return jsonify(body)


@bp.route("/hours/keys.json")
def public_keys():
    """The platform's public keys, every one ever used, with their ids: what an offline verifier needs."""
    response = jsonify(keys.keys_document(keys.published()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
