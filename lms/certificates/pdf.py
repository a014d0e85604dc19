"""The certificate as an A4 landscape PDF in Russian, with a QR code linking to its verify page."""
from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image

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


def certificate_pdf(certificate, verify_url):
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
    pdf.add_page()
    width = pdf.w
    pdf.set_draw_color(31, 95, 191)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, pdf.h - 20)

    pdf.set_font("DejaVu", "B", 30)
    pdf.set_xy(20, 28)
    pdf.cell(width - 40, 14, "СЕРТИФИКАТ", align="C")
    pdf.set_font("DejaVu", "", 14)
    pdf.set_xy(20, 46)
    pdf.cell(width - 40, 8, "настоящим подтверждается, что", align="C")
    pdf.set_font("DejaVu", "B", 24)
    pdf.set_xy(20, 58)
    pdf.cell(width - 40, 12, certificate.trainee_name, align="C")
    pdf.set_font("DejaVu", "", 14)
    pdf.set_xy(20, 74)
    pdf.cell(width - 40, 8, "успешно освоил(а) программу", align="C")
    pdf.set_font("DejaVu", "B", 18)
    pdf.set_xy(30, 84)
    pdf.multi_cell(width - 60, 9, f"«{certificate.course_title}»", align="C")
    pdf.set_font("DejaVu", "", 13)
    pdf.set_xy(20, pdf.get_y() + 4)
    pdf.cell(width - 40, 8, f"включая {format_hours(certificate.practice_hours)} ч полевой практики, "
                            "одобренной наставником", align="C")

    pdf.set_font("DejaVu", "", 12)
    pdf.set_xy(25, 150)
    pdf.cell(150, 7, f"Дата выдачи: {russian_date(certificate.issued_on)}")
    pdf.set_xy(25, 158)
    pdf.cell(150, 7, f"Выдан: {certificate.issuer_name}")
    pdf.set_xy(25, 166)
    pdf.cell(150, 7, f"Код для проверки: {certificate.short_code}")
    pdf.set_font("DejaVu", "", 8)
    pdf.set_xy(25, 176)
    pdf.cell(200, 5, verify_url)

    pdf.image(qr_image(verify_url), x=width - 70, y=132, w=45, h=45)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_xy(width - 75, 178)
    pdf.cell(55, 5, "Проверка подлинности", align="C")

    if certificate.revoked_at is not None:
        pdf.set_text_color(179, 38, 30)
        pdf.set_font("DejaVu", "B", 40)
        with pdf.rotation(20, x=width / 2, y=pdf.h / 2):
            pdf.set_xy(20, pdf.h / 2 - 10)
            pdf.cell(width - 40, 20, "СЕРТИФИКАТ ОТОЗВАН", align="C")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
