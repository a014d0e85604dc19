"""The SMTP server in the configuration, when there is one. Nothing is sent from a web request: services put
messages in the outbox (lms.notifications.services.queue_email) and `flask lms send-notifications` sends them.

Without MAIL_SERVER the application shows links to the people who pass them on instead.
"""
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

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
    """A message from the programme (its name as the sender), with a plain-text part and an HTML one."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = Address(display_name=config["LMS_ISSUER_NAME"], addr_spec=config["MAIL_FROM"])
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text_body)
    if html_body:
        message.add_alternative(html_body, subtype="html")
    return message
