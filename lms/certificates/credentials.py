"""Open Badges 3.0 credentials signed as VC-JWT (RS256), the issuer's key set and the revocation list.

The RSA key is generated on first use and kept at LMS_SIGNING_KEY_PATH (mode 600); every app host
must share the same file.
"""
import base64
import gzip
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from sqlalchemy import func, select

from lms.certificates.models import Certificate
from lms.extensions import db

OB3_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
STATUS_LIST_SIZE = 131_072  # the W3C minimum, so that one credential's bit says nothing about who it is
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


def public_jwks():
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key().public_key()))
    jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


def issuer_profile():
    return {"@context": OB3_CONTEXT, "id": issuer_id(), "type": ["Profile"],
            "name": current_app.config["LMS_ISSUER_NAME"], "url": base_url(),
            "description": "Выдаёт сертификаты программы подготовки менеджеров соседских сообществ.",
            "jwks_uri": f"{issuer_id()}/jwks"}


def verify_url(certificate):
    return f"{base_url()}/verify/{certificate.code}"


def _timestamp(moment):
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def subject_id(certificate):
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_url()}/trainees/{certificate.trainee_id}')}"


def open_badge_credential(certificate):
    course = certificate.course
    alignment = [{"type": ["Alignment"], "targetName": outcome, "targetType": "ext:LearningOutcome",
                  "targetUrl": f"{base_url()}/courses/{course.slug}/{module.slug}"}
                 for module in course.modules for outcome in module.outcomes]
    rules = course.certificate or {}
    required = len(rules.get("required_assignments", []))
    criteria = (f"Засчитаны все обязательные практические задания курса ({required}), "
                f"наставник одобрил не меньше {rules.get('practice_hours', 0)} ч полевой практики "
                f"не меньше чем в {rules.get('min_activity_types', 0)} видах деятельности.")
    return {
        "@context": OB3_CONTEXT,
        "id": verify_url(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": certificate.issuer_name, "url": base_url()},
        "validFrom": _timestamp(certificate.issued_at),
        "name": certificate.course_title,
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            "identifier": [{"type": ["IdentityObject"], "identityType": "name", "hashed": False,
                            "identityHash": certificate.trainee_name}],
            "achievement": {
                "id": f"{base_url()}/courses/{course.slug}#certificate",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.course_title,
                "description": f"Практико-ориентированная программа «{certificate.course_title}» с полевой практикой "
                               f"в соседском центре и у партнёров; {float(certificate.practice_hours):g} ч практики.",
                "criteria": {"narrative": criteria},
                "alignment": alignment,
            },
        },
        "credentialStatus": {
            "id": f"{base_url()}/status/revocation#{certificate.id}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.id),
            "statusListCredential": f"{base_url()}/status/revocation",
        },
    }


def _sign(payload):
    return jwt.encode(payload, signing_key(), algorithm="RS256",
                      headers={"kid": f"{issuer_id()}/jwks#{KEY_ID}", "typ": "JWT"})


def credential_jwt(certificate):
    credential = open_badge_credential(certificate)
    return _sign({"iss": credential["issuer"]["id"], "sub": credential["credentialSubject"]["id"],
                  "nbf": int(certificate.issued_at.replace(tzinfo=UTC).timestamp()), "jti": credential["id"],
                  "vc": credential})


def revocation_list_jwt():
    """The W3C Bitstring Status List of revoked certificates, as a signed credential."""
    revoked = db.session.scalars(select(Certificate.id).where(Certificate.revoked_at.is_not(None))).all()
    highest = db.session.scalar(select(func.max(Certificate.id))) or 0
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
