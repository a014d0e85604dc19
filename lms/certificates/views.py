from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from lms.auth.models import User
from lms.certificates.credentials import (
    KEY_ID,
    OB3_CONTEXT,
    achievement,
    credential_jwt,
    issuer_profile,
    public_jwk,
    public_jwks,
    revocation_list_jwt,
    verify_url,
)
from lms.certificates.eligibility import compute_eligibility
from lms.certificates.models import Certificate
from lms.certificates.services import (
    CertificateError,
    certificates_of,
    find_certificate,
    issue_certificate,
    issue_certificates_for_cohort,
    revoke_certificate,
    set_name_shown,
)
from lms.curriculum.models import Course
from lms.extensions import db, limiter
from lms.i18n import content_sentence, content_text
from lms.inputs import whole_number
from lms.learning.models import Cohort, Enrolment
from lms.permissions import can_change_certificate, public, require, role_required
from lms.uploads import download_response

bp = Blueprint("certificates", __name__)
VERIFY_LIMIT = "60 per minute"


def _noindex(response):
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/verify")
@public
def verify_form():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return _noindex(Response(render_template("certificates/verify_form.html")))


@bp.route("/verify/<code>")
@public
@limiter.limit(VERIFY_LIMIT)
def verify(code):
    certificate = find_certificate(code)
    response = Response(render_template("certificates/verify.html", certificate=certificate, code=code),
                        status=200 if certificate else 404)
    return _noindex(response)



@bp.route("/verify/<code>.pdf")
@public
@limiter.limit(VERIFY_LIMIT)
def verify_pdf(code):
    # Imported here: the PDF library (fpdf2 with Pillow and fontTools) is 30 MB of a worker's memory, and only
    # this page and the portfolio need it.
    from lms.certificates.pdf import certificate_pdf

    certificate = find_certificate(code)
    require(certificate is not None)
    return _noindex(download_response(certificate_pdf(certificate, verify_url(certificate)), "application/pdf",
                                      f"certificate-{certificate.short_code}.pdf", inline=True))


@bp.route("/verify/<code>.jwt")
@public
@limiter.limit(VERIFY_LIMIT)
def verify_jwt(code):
    certificate = find_certificate(code)
    require(certificate is not None)
    return _noindex(Response(credential_jwt(certificate), mimetype="application/jwt"))


def _wants_html():
    """People's browsers ask for HTML first; verifiers ask for JSON (or anything)."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@bp.route("/issuer")
@public
def issuer():
    profile = issuer_profile()
    if _wants_html():
        return render_template("certificates/issuer.html", profile=profile)
    return jsonify(profile)


@bp.route("/issuer/jwks")
@public
def issuer_jwks():
    return jsonify(public_jwks())


@bp.route("/issuer/keys/<key_id>")
@public
def issuer_key(key_id):
    """The key a token's `kid` names, on its own (a key set is at /issuer/jwks)."""
    require(key_id == KEY_ID)
    return jsonify(public_jwk())


@bp.route("/achievements/<course_slug>")
@bp.route("/achievements/<course_slug>/by-decision", endpoint="achievement_by_decision",
          defaults={"by_decision": True})
@public
def achievement_page(course_slug, by_decision=False):
    """What a certificate of the course certifies, in words for people and as JSON for verifiers."""
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    require(course is not None)
    data = achievement(course, by_decision)
    if _wants_html():
        return render_template("certificates/achievement.html", achievement=data, course=course,
                               by_decision=by_decision)
    return jsonify({"@context": OB3_CONTEXT, **data})


@bp.route("/status/revocation")
@public
def revocation_list():
    response = Response(revocation_list_jwt(), mimetype="application/jwt")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/certificates")
@role_required("trainee")
def my_certificates():
    """The trainee's certificates, and for each course what is done and what is missing."""
    cohorts = db.session.scalars(select(Cohort).options(selectinload(Cohort.course)).join(Enrolment)
                                 .where(Enrolment.trainee_id == current_user.id)).all()
    certificates = certificates_of(current_user)
    progress = [(c.course, compute_eligibility(c.course, [current_user.id])[current_user.id]) for c in cohorts]
    return render_template("certificates/mine.html", certificates=certificates, progress=progress)


@bp.route("/certificates/<int:certificate_id>/name", methods=["POST"])
@role_required("trainee")
def certificate_name(certificate_id):
    """The holder chooses whether the credential names them or carries only hashed identifiers."""
    certificate = db.session.get(Certificate, certificate_id)
    require(certificate is not None and can_change_certificate(current_user, certificate))
    set_name_shown(certificate, request.form.get("show") == "1")
    db.session.commit()
    flash(_("The credential now shows your name.") if certificate.show_name else
          _("The credential and its verify page no longer show your name; it keeps your name and e-mail only "
            "hashed, so that a wallet can still match them."), "info")
    return redirect(url_for("certificates.my_certificates"))


@bp.route("/portfolio.zip")
@role_required("trainee")
def portfolio():
    """Everything the trainee did, as one ZIP that is theirs to keep."""
    from lms.certificates.portfolio import build_portfolio  # imports the PDF library: see verify_pdf

    return download_response(build_portfolio(current_user), "application/zip", "portfolio.zip")


@bp.route("/admin/certificates")
@role_required("admin")
def admin_certificates():
    cohorts = db.session.scalars(select(Cohort).options(joinedload(Cohort.course)).order_by(Cohort.name)).all()
    cohort = next((c for c in cohorts if str(c.id) == request.args.get("cohort")), cohorts[0] if cohorts else None)
    rows = []
    if cohort is not None:
        trainees = db.session.scalars(select(User).options(lazyload(User.role_rows)).join(Enrolment)
                                      .where(Enrolment.cohort_id == cohort.id).order_by(User.name)).all()
        eligibility = compute_eligibility(cohort.course, [t.id for t in trainees])
        issued = {c.trainee_id: c for c in db.session.scalars(select(Certificate).where(
            Certificate.course_id == cohort.course_id, Certificate.trainee_id.in_([t.id for t in trainees]))
            .order_by(Certificate.issued_at))}
        rows = [(t, eligibility[t.id], issued.get(t.id)) for t in trainees]
    ready = sum(1 for _t, e, c in rows if e.eligible and (c is None or not c.is_valid))
    return render_template("certificates/admin.html", cohorts=cohorts, cohort=cohort, rows=rows, ready=ready)


@bp.route("/admin/certificates/issue", methods=["POST"])
@role_required("admin")
def admin_issue():
    trainee = db.session.get(User, request.form.get("trainee", type=whole_number) or 0)
    course = db.session.get(Course, request.form.get("course", type=whole_number) or 0)
    require(trainee is not None and course is not None)
    try:
        certificate, created = issue_certificate(trainee, course, current_user,
                                                 override_reason=request.form.get("override_reason"))
        db.session.commit()
        name = content_text(trainee.name)
        flash(content_sentence(_("Certificate %(code)s issued to %(name)s."), code=certificate.short_code, name=name)
              if created else content_sentence(_("%(name)s already has a valid certificate."), name=name), "info")
    except CertificateError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("certificates.admin_certificates", cohort=request.form.get("cohort", type=whole_number)))


@bp.route("/admin/certificates/cohorts/<int:cohort_id>/issue", methods=["GET", "POST"])
@role_required("admin")
def admin_issue_cohort(cohort_id):
    """Confirm, then issue to every eligible trainee of the cohort in one transaction."""
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None)
    if request.method == "POST":
        issued = issue_certificates_for_cohort(cohort, current_user)
        db.session.commit()
        flash(ngettext("%(num)d certificate issued.", "%(num)d certificates issued.", len(issued)), "info")
        return redirect(url_for("certificates.admin_certificates", cohort=cohort.id))
    trainees = db.session.execute(select(User.id, User.name).join(Enrolment, Enrolment.trainee_id == User.id)
                                  .where(Enrolment.cohort_id == cohort.id).order_by(User.name)).all()
    eligibility = compute_eligibility(cohort.course, [t.id for t in trainees])
    holders = set(db.session.scalars(select(Certificate.trainee_id).where(
        Certificate.course_id == cohort.course_id, Certificate.revoked_at.is_(None))))
    names = [t for t in trainees if eligibility[t.id].eligible and t.id not in holders]
    return render_template("certificates/confirm_issue.html", cohort=cohort, count=len(names), names=names)


@bp.route("/admin/certificates/<int:certificate_id>/revoke", methods=["POST"])
@role_required("admin")
def admin_revoke(certificate_id):
    certificate = db.session.get(Certificate, certificate_id)
    require(certificate is not None)
    try:
        revoke_certificate(certificate, current_user, request.form.get("reason"))
        db.session.commit()
        flash(_("Certificate %(code)s revoked.", code=certificate.short_code), "info")
    except CertificateError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("certificates.admin_certificates", cohort=certificate.cohort_id))
