"""The SMTP server in the configuration, when there is one. Nothing is sent from a web request: services put
messages in the outbox (lms.notifications.services.queue_email) and `flask lms send-notifications` sends them.

Without MAIL_SERVER the application shows links to the people who pass them on instead.
"""
import smtplib
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
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
        message = MIMEMultipart("alternative")
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
