"""Open Badges 3.0 credentials signed as VC-JWT (RS256), the issuer's key set and the revocation list.

The RSA key is generated on first use and kept at LMS_SIGNING_KEY_PATH (mode 600); every app host
must share the same file.
"""
import base64
import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from sqlalchemy import func, select

from lms.certificates.models import Certificate
from lms.certificates.services import STATUS_LIST_SIZE, identity_hash
from lms.extensions import db

OB3_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
KEY_ID = "key-1"


def signing_key():
    path = Path(current_app.config["LMS_SIGNING_KEY_PATH"])
    cache = current_app.extensions.setdefault("lms_signing_key", {})
    if str(path) not in cache:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first: use theirs
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
        cache[str(path)] = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return cache[str(path)]


def base_url():
    return current_app.config["LMS_BASE_URL"]


def issuer_id():
    return f"{base_url()}/issuer"


def key_url():
    """The `kid` of every token: a URL that dereferences to the one public key (OB 3.0, VC-JWT)."""
    return f"{issuer_id()}/keys/{KEY_ID}"


def public_jwk():
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key().public_key()))
    jwk.update({"kid": key_url(), "use": "sig", "alg": "RS256"})
    return jwk


def public_jwks():
    return {"keys": [public_jwk()]}


def issuer_profile():
    return {"@context": OB3_CONTEXT, "id": issuer_id(), "type": ["Profile"],
            "name": current_app.config["LMS_ISSUER_NAME"], "url": base_url(),
            "description": ISSUER_DESCRIPTION, "image": {"id": mark_url(), "type": "Image"}}


ISSUER_DESCRIPTION = "Выдаёт сертификаты программы подготовки менеджеров соседских сообществ."
EARNED_CRITERIA = ("Засчитаны все обязательные практические задания курса ({required}), наставник одобрил не меньше "
                   "{hours} ч полевой практики не меньше чем в {kinds} видах деятельности.")
DECISION_CRITERIA = ("Выдаётся решением программы: администратор засвидетельствовал прохождение курса, хотя часть "
                     "требований к заданиям или практике не была выполнена и отменена для этого слушателя.")


def mark_url():
    return f"{base_url()}/static/mark.png"


def verify_url(certificate):
    return f"{base_url()}/verify/{certificate.code}"


def achievement_url(course, by_decision=False):
    return f"{base_url()}/achievements/{course.slug}{'/by-decision' if by_decision else ''}"


def _timestamp(moment):
    """Whole seconds, UTC: the credential's validFrom and the token's nbf must be the same instant."""
    return moment.replace(microsecond=0, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def criteria_text(course, by_decision=False):
    if by_decision:
        return DECISION_CRITERIA
    rules = course.certificate or {}
    return EARNED_CRITERIA.format(required=len(rules.get("required_assignments", [])),
                                  hours=rules.get("practice_hours", 0), kinds=rules.get("min_activity_types", 0))


def achievement(course, by_decision=False):
    """The achievement a certificate of course stands for: earned, or issued by the programme's decision."""
    alignment = [{"type": ["Alignment"], "targetName": outcome, "targetType": "ext:LearningOutcome",
                  "targetUrl": f"{base_url()}/courses/{course.slug}/{module.slug}"}
                 for module in course.modules for outcome in module.outcomes]
    name = course.title + (" (решением программы)" if by_decision else "")
    return {
        "id": achievement_url(course, by_decision),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": name,
        "description": f"Практико-ориентированная программа «{course.title}» с полевой практикой в соседском "
                       "центре и у партнёров.",
        "criteria": {"id": achievement_url(course, by_decision), "narrative": criteria_text(course, by_decision)},
        "image": {"id": mark_url(), "type": "Image"},
        "creator": {"id": issuer_id(), "type": ["Profile"], "name": current_app.config["LMS_ISSUER_NAME"]},
        "alignment": alignment,
    }


def _identifiers(certificate):
    identifiers = [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                    "identityHash": certificate.email_hash, "salt": certificate.identity_salt}]
    if certificate.show_name:
        identifiers.insert(0, {"type": "IdentityObject", "identityType": "name", "hashed": False,
                               "identityHash": certificate.trainee_name})
    else:
        identifiers.insert(0, {"type": "IdentityObject", "identityType": "name", "hashed": True,
                               "identityHash": identity_hash(certificate.trainee_name, certificate.identity_salt),
                               "salt": certificate.identity_salt})
    return identifiers


def open_badge_credential(certificate):
    course = certificate.course
    hours = f"{float(certificate.practice_hours):g}"
    subject = {
        "id": certificate.subject_id,
        "type": ["AchievementSubject"],
        "identifier": _identifiers(certificate),
        "achievement": achievement(course, certificate.by_decision),
    }
    if certificate.by_decision:
        subject["narrative"] = ("Сертификат выдан решением программы: часть требований отменена для этого "
                                f"слушателя. Одобрено {hours} ч полевой практики.")
    else:
        subject["narrative"] = f"Одобрено {hours} ч полевой практики."
    credential = {
        "@context": OB3_CONTEXT,
        "id": verify_url(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": certificate.issuer_name, "url": base_url()},
        "validFrom": _timestamp(certificate.issued_at),
        "name": certificate.course_title,
        "credentialSubject": subject,
        "credentialSchema": [{"id": CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": {
            "id": f"{base_url()}/status/revocation#{certificate.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.status_index),
            "statusListCredential": f"{base_url()}/status/revocation",
        },
    }
    if certificate.by_decision:
        credential["description"] = "Выдан решением программы с отменой части требований."
    return credential


CREDENTIAL_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential-jsonschema1.json"


def _sign(payload):
    return jwt.encode(payload, signing_key(), algorithm="RS256",
                      headers={"kid": key_url(), "typ": "JWT"})


def credential_jwt(certificate):
    credential = open_badge_credential(certificate)
    return _sign({"iss": credential["issuer"]["id"], "sub": credential["credentialSubject"]["id"],
                  "nbf": int(certificate.issued_at.replace(tzinfo=UTC).timestamp()), "jti": credential["id"],
                  "vc": credential})


def revocation_list_jwt():
    """The W3C Bitstring Status List of revoked certificates, as a signed credential."""
    revoked = db.session.scalars(select(Certificate.status_index).where(Certificate.revoked_at.is_not(None))).all()
    highest = db.session.scalar(select(func.max(Certificate.status_index))) or 0
    size = max(STATUS_LIST_SIZE, ((highest // 8) + 1) * 8)
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")
    now = datetime.now(UTC).replace(microsecond=0)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"{base_url()}/status/revocation",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": now.isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"id": f"{base_url()}/status/revocation#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": encoded},
    }
    return _sign({"iss": issuer_id(), "sub": credential["credentialSubject"]["id"], "nbf": int(now.timestamp()),
                  "jti": credential["id"], "vc": credential})
