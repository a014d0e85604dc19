"""The SMTP server in the configuration, when there is one. Nothing is sent from a web request: services put
messages in the outbox (lms.notifications.services.queue_email) and `flask lms send-notifications` sends them.

Without MAIL_SERVER the application shows links to the people who pass them on instead.
"""
import io
import secrets
import smtplib
from email.generator import BytesGenerator
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate, make_msgid

from flask import current_app


def mail_configured():
    return bool(current_app.config.get("MAIL_SERVER"))


def smtp_connection():
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    if config["MAIL_USE_TLS"]:
        smtp.starttls()
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def build_message(to, subject, text_body, html_body=None, headers=None):
    """A message from the programme (its name as the sender), with a plain-text part and an HTML one.

    Built with the email package's classic classes: its newer EmailMessage folds every non-ASCII header through
    a parser, which took 10 ms a message, most of the time of sending 10,000."""
    config = current_app.config
    if html_body:
        # A boundary of our own: "=_" never occurs in base64 or quoted-printable text, so the generator need not
        # compile a regular expression per message to make one that does not clash (a fifth of sending's time).
        message = MIMEMultipart("alternative", boundary=f"=_{secrets.token_hex(16)}")
        message.attach(MIMEText(text_body, "plain", "utf-8"))
        message.attach(MIMEText(html_body, "html", "utf-8"))
    else:
        message = MIMEText(text_body, "plain", "utf-8")
    message["From"] = formataddr((config["LMS_ISSUER_NAME"], config["MAIL_FROM"]), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(subject, "utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    return message


class _QuickFold(Compat32):
    """The classic policy, without running a header that needs no folding (short and ASCII, as most are) through
    email.header.Header, which returns it unchanged: that was a fifth of the time of flattening a message."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and len(name) + len(value) + 2 <= 78 and "\n" not in value:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


SMTP_POLICY = _QuickFold(linesep="\r\n")


def send_built(smtp, to, message):
    """Send a message from build_message to one address. The envelope is ours (MAIL_FROM, to), so the message is
    not parsed again for its addresses as smtplib's send_message does (a tenth of sending's time); an address that
    is not ASCII asks the server for SMTPUTF8."""
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=SMTP_POLICY).flatten(message)
    smtp.sendmail(current_app.config["MAIL_FROM"], [to], buffer.getvalue(),
                  mail_options=() if to.isascii() else ("SMTPUTF8",))
