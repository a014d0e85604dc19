"""The certificate as an A4 landscape PDF in Russian, with a QR code linking to its verify page, and a second page
with what it stands for."""
from pathlib import Path

import segno
from flask import current_app
from flask_babel import force_locale
from fpdf import FPDF
from PIL import Image

from lms.labels import ACTIVITY_TYPE_LABELS

FONTS = Path(__file__).parent / "fonts"
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")


def qr_image(url, scale=8, border=2):
    """The QR code as a 1-bit image made straight from its matrix: no PNG to write and then read back."""
    rows = [bytes(0 if dark else 255 for dark in row)
            for row in segno.make(url, error="m").matrix_iter(border=border)]
    image = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).convert(
        "1", dither=Image.Dither.NONE)


def russian_date(day):
    return f"{day.day} {MONTHS[day.month - 1]} {day.year} г."


def format_hours(value):
    text = f"{float(value):.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


BLUE, GOLD, INK, MUTED = (31, 95, 191), (196, 152, 38), (29, 36, 48), (90, 100, 114)


def _pdf(certificate):
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Сертификат {certificate.short_code}")
    pdf.set_author(certificate.issuer_name)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    for font in pdf.fonts.values():
        # The glyph boxes in the files are right already; recomputing them made fpdf2 decode and re-encode
        # every glyph of the subset it embeds: a third of the time of a certificate.
        font.ttfont.recalcBBoxes = False
    pdf.set_auto_page_break(False)
    return pdf


def _frame(pdf):
    """A double border: the programme's blue outside, a thin gold line inside."""
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(2.2)
    pdf.rect(9, 9, pdf.w - 18, pdf.h - 18)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)


def _centred(pdf, y, text, size, bold=False, color=INK, height=None):
    pdf.set_text_color(*color)
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.set_xy(24, y)
    pdf.multi_cell(pdf.w - 48, height or size * 0.5, text, align="C")
    return pdf.get_y()


def certificate_pdf(certificate, verify_url):
    """Page 1, to frame: the mark and name of the programme, whom it certifies for what, the signatory, the date,
    the code and a QR code to the verify page. Page 2: the modules studied and the practice by kind."""
    config = current_app.config
    pdf = _pdf(certificate)
    pdf.add_page()
    _frame(pdf)
    width = pdf.w
    logo = config.get("LMS_ISSUER_LOGO")
    if logo and Path(logo).exists():
        pdf.image(logo, x=width / 2 - 11, y=20, w=22, h=22)
    y = _centred(pdf, 45, certificate.issuer_name.upper(), 11, bold=True, color=BLUE)
    if config.get("LMS_ISSUER_NAME_EN"):
        y = _centred(pdf, y + 0.5, config["LMS_ISSUER_NAME_EN"], 9, color=MUTED)
    y = _centred(pdf, y + 6, "СЕРТИФИКАТ", 32, bold=True, height=14)
    y = _centred(pdf, y + 2, "настоящим подтверждается, что", 13, color=MUTED)
    y = _centred(pdf, y + 4, certificate.trainee_name, 24, bold=True, height=12)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.line(width / 2 - 70, y + 1.5, width / 2 + 70, y + 1.5)
    passed = "прошёл(ла) обучение по программе" if certificate.by_decision else "успешно освоил(а) программу"
    y = _centred(pdf, y + 5, passed, 13, color=MUTED)
    y = _centred(pdf, y + 2, f"«{certificate.course_title}»", 18, bold=True, height=9)
    y = _centred(pdf, y + 2, f"включая {format_hours(certificate.practice_hours)} ч полевой практики, "
                             "одобренной наставником", 12)
    if certificate.by_decision:
        _centred(pdf, y + 1, "Выдан решением программы: часть требований отменена для этого слушателя.", 10,
                 color=MUTED)

    # The signatory, above a signature line, on the left; the QR code on the right.
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.line(30, 168, 120, 168)
    pdf.set_font("DejaVu", "B", 11)
    pdf.set_xy(30, 169.5)
    pdf.cell(90, 6, config.get("LMS_SIGNATORY_NAME") or certificate.issuer_name)
    pdf.set_font("DejaVu", "", 9)
    pdf.set_xy(30, 175)
    pdf.cell(90, 5, config.get("LMS_SIGNATORY_TITLE") or "")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_xy(130, 158)
    pdf.cell(80, 6, f"Дата выдачи: {russian_date(certificate.issued_on)}")
    pdf.set_xy(130, 164)
    pdf.cell(80, 6, f"Код: {certificate.short_code}")
    pdf.set_font("DejaVu", "", 8)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(130, 170)
    pdf.cell(95, 5, f"Проверить по коду: {verify_url.rsplit('/', 1)[0]}")
    pdf.image(qr_image(verify_url), x=width - 62, y=140, w=38, h=38)
    pdf.set_xy(width - 67, 178.5)
    pdf.cell(48, 4, "Проверка подлинности", align="C")
    if certificate.revoked_at is not None:
        _revoked(pdf)

    pdf.add_page()
    _frame(pdf)
    _centred(pdf, 24, f"Приложение к сертификату {certificate.short_code}", 16, bold=True, color=BLUE)
    _centred(pdf, 33, f"{certificate.trainee_name} · «{certificate.course_title}»", 11, color=MUTED)
    pdf.set_text_color(*INK)
    pdf.set_font("DejaVu", "B", 12)
    pdf.set_xy(28, 46)
    pdf.cell(130, 7, "Изученные модули")
    pdf.set_font("DejaVu", "", 10)
    modules = certificate.modules or [module.title for module in certificate.course.modules]
    for number, title in enumerate(modules, 1):
        pdf.set_xy(28, pdf.get_y() + 7 if number == 1 else pdf.get_y())
        pdf.multi_cell(130, 5.5, f"{number}. {title}")
    pdf.set_font("DejaVu", "B", 12)
    pdf.set_xy(160, 46)
    pdf.cell(110, 7, "Полевая практика, одобренная наставником")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_xy(160, 53)
    for code, minutes in sorted((certificate.practice_by_activity or {}).items()):
        pdf.set_x(160)
        pdf.cell(75, 6, _activity_label(code))
        pdf.cell(22, 6, f"{format_hours(minutes / 60)} ч", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_x(160)
    pdf.cell(75, 7, "Всего")
    pdf.cell(22, 7, f"{format_hours(certificate.practice_hours)} ч", align="R")
    if certificate.revoked_at is not None:
        _revoked(pdf)
    return bytes(pdf.output())


def _activity_label(code):
    with force_locale("ru"):
        return str(ACTIVITY_TYPE_LABELS.get(code, code))


def _revoked(pdf):
    pdf.set_text_color(179, 38, 30)
    pdf.set_font("DejaVu", "B", 40)
    with pdf.rotation(20, x=pdf.w / 2, y=pdf.h / 2):
        pdf.set_xy(20, pdf.h / 2 - 10)
        pdf.cell(pdf.w - 40, 20, "СЕРТИФИКАТ ОТОЗВАН", align="C")
    pdf.set_text_color(0, 0, 0)
