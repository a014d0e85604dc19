from lms.clock import utcnow
from lms.extensions import db


class Certificate(db.Model):
    """What was certified, frozen at issue: later renames or curriculum edits do not change it."""

    __tablename__ = "certificates"
    __table_args__ = (
        # At most one valid certificate per trainee and course, enforced by the database itself so that two
        # administrators issuing at the same moment cannot both succeed.
        db.Index("uq_certificates_valid_per_course", "trainee_id", "course_id", unique=True,
                 sqlite_where=db.text("revoked_at IS NULL"), postgresql_where=db.text("revoked_at IS NULL")),
    )

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(64), nullable=False, unique=True)
    short_code = db.Column(db.String(20), nullable=False, unique=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id"), nullable=False)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id"))
    trainee_name = db.Column(db.String(200), nullable=False)
    course_title = db.Column(db.String(200), nullable=False)
    practice_hours = db.Column(db.Numeric(7, 1), nullable=False)
    issued_on = db.Column(db.Date, nullable=False)
    issued_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    issuer_name = db.Column(db.String(200), nullable=False)
    issued_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    override_reason = db.Column(db.Text)
    revoked_at = db.Column(db.DateTime)
    revoked_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    revocation_reason = db.Column(db.Text)
    # Open Badges: the credential's place in the revocation list, random so that it tells nothing of how many
    # were issued or in what order (certificates issued before it was random keep their id there).
    status_index = db.Column(db.Integer, nullable=False, unique=True)
    # The learner's random identifier in the credential (also per person: users.credential_subject), the salt
    # of the hashed identifiers, the e-mail hashed at issue, and whether the credential may show the name.
    subject_id = db.Column(db.String(45), nullable=False)
    identity_salt = db.Column(db.String(32), nullable=False)
    email_hash = db.Column(db.String(71), nullable=False)
    show_name = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    modules = db.Column(db.JSON)  # the titles of the modules studied, as they were at issue
    practice_by_activity = db.Column(db.JSON)  # {kind of activity: approved minutes} at issue

    trainee = db.relationship("User", foreign_keys=[trainee_id])
    course = db.relationship("Course")

    @property
    def is_valid(self):
        return self.revoked_at is None

    @property
    def by_decision(self):
        """Issued by the programme's decision with requirements waived (the reason stays private)."""
        return self.override_reason is not None
