"""The session cookie as Flask signs it, without rebuilding its serializer and deriving its key on every request.

Flask makes a new serializer for each cookie it reads or writes, and itsdangerous derives the signing key (an
HMAC) each time it signs or checks: together a tenth of a signed-in request that does nothing. Both depend only on
the secret keys, so the serializer is kept while the keys stay the same and each derived key is kept once made.
"""
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

_derived_keys = {}


class _SignerKeepingKeys(TimestampSigner):
    def derive_key(self, secret_key=None):
        secret = self.secret_keys[-1] if secret_key is None else secret_key
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        if key not in _derived_keys:
            _derived_keys[key] = super().derive_key(secret_key)
        return _derived_keys[key]


class KeptSerializerSessionInterface(SecureCookieSessionInterface):
    _kept = (None, None)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = [*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key]  # the current key last
        if self._kept[0] != keys:
            self._kept = (keys, URLSafeTimedSerializer(
                keys, salt=self.salt, serializer=self.serializer, signer=_SignerKeepingKeys,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method}))
        return self._kept[1]
