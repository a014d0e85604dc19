from lms.clock import utcnow
from lms.extensions import db

# requested (by the trainee) → approved by a mentor or an administrator, or declined; assigned ones start approved.
PLACEMENT_STATUSES = ("requested", "approved", "declined")
# The placements that take one of a partner's places in their period.
HOLDING_PLACES = ("requested", "approved")


class Placement(db.Model):
    """A trainee's placement at a partner for a period, with a site supervisor who has no account."""

    __tablename__ = "placements"
    __table_args__ = (db.Index("ix_placements_site_period", "site_id", "starts_on", "ends_on"),)

    id = db.Column(db.Integer, primary_key=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id"), nullable=False, index=True)
    site_id = db.Column(db.Integer, db.ForeignKey("practice_sites.id"), nullable=False)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date, nullable=False)
    planned_hours = db.Column(db.Integer, nullable=False)
    supervisor_name = db.Column(db.String(200), nullable=False)
    supervisor_position = db.Column(db.String(200), nullable=False, default="")
    supervisor_email = db.Column(db.String(254), nullable=False)
    status = db.Column(db.String(20), nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    decided_at = db.Column(db.DateTime)

    trainee = db.relationship("User", foreign_keys=[trainee_id])
    cohort = db.relationship("Cohort")
    site = db.relationship("PracticeSite")


# draft (the trainee writes) → submitted → approved by a mentor → agreed by the site supervisor through a link.
AGREEMENT_STATUSES = ("submitted", "approved", "agreed")


class LearningAgreement(db.Model):
    """One version of a placement's learning goals; a change after agreement is a new version, the old one kept."""

    __tablename__ = "learning_agreements"
    __table_args__ = (db.UniqueConstraint("placement_id", "version"),)

    id = db.Column(db.Integer, primary_key=True)
    placement_id = db.Column(db.Integer, db.ForeignKey("placements.id", ondelete="CASCADE"), nullable=False)
    version = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    approved_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    approved_at = db.Column(db.DateTime)
    # The supervisor's single-use link: signed with the secret key, its nonce kept here until it is used.
    nonce = db.Column(db.String(32), unique=True)
    agreed_at = db.Column(db.DateTime)
    agreed_by_name = db.Column(db.String(200))

    placement = db.relationship("Placement", backref=db.backref("agreements", order_by="LearningAgreement.version"))
    goals = db.relationship("LearningGoal", cascade="all, delete-orphan", order_by="LearningGoal.position")


class LearningGoal(db.Model):
    """A goal of an agreement, tied to one of the course's outcomes (a module's, by its text)."""

    __tablename__ = "learning_goals"

    agreement_id = db.Column(db.Integer, db.ForeignKey("learning_agreements.id", ondelete="CASCADE"),
                             primary_key=True)
    position = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.Text, nullable=False)
    outcome = db.Column(db.String(500), nullable=False)


EVALUATION_KINDS = ("midterm", "final")
EVALUATION_LEVELS = (1, 2, 3, 4)


class PlacementEvaluation(db.Model):
    """The site supervisor's midterm or final evaluation of the agreed goals, given through a single-use link."""

    __tablename__ = "placement_evaluations"
    __table_args__ = (db.UniqueConstraint("placement_id", "kind"),)

    id = db.Column(db.Integer, primary_key=True)
    placement_id = db.Column(db.Integer, db.ForeignKey("placements.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(10), nullable=False)
    agreement_id = db.Column(db.Integer, db.ForeignKey("learning_agreements.id"), nullable=False)
    nonce = db.Column(db.String(32), unique=True)
    requested_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    submitted_at = db.Column(db.DateTime)
    ratings = db.Column(db.JSON, nullable=False, default=dict)  # {goal position (text): level 1-4}
    # The lowest level given to a goal: what the course's `certificate.placement_evaluation` compares.
    level = db.Column(db.Integer)
    strengths = db.Column(db.Text, nullable=False, default="")
    areas_to_develop = db.Column(db.Text, nullable=False, default="")
    recommendation = db.Column(db.Text, nullable=False, default="")
    trainee_response = db.Column(db.Text, nullable=False, default="")
    responded_at = db.Column(db.DateTime)

    placement = db.relationship("Placement", backref=db.backref("evaluations", order_by="PlacementEvaluation.id"))
    agreement = db.relationship("LearningAgreement")
