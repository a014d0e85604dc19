from lms.clock import utcnow
from lms.extensions import db
from lms.uploads import StoredFile

# The programme's partner organisations, the pilot centre among them (lms/partners/).
SITE_KINDS = ("centre", "ngo", "business", "library", "school", "university", "municipal", "residents", "other")
# draft → submitted → approved, or returned → edited and submitted again.
ENTRY_STATUSES = ("draft", "submitted", "returned", "approved")


class PracticeSite(db.Model):
    """A partner organisation of the programme, on its public map once published; those that are `active` take
    trainees for practice. One list, so that the practice log, the map and the report name the same places."""

    __tablename__ = "practice_sites"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False, unique=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    kind = db.Column(db.String(20), nullable=False)
    address = db.Column(db.String(300), nullable=False, default="")
    district = db.Column(db.String(100), nullable=False, default="")
    latitude = db.Column(db.Float)
    longitude = db.Column(db.Float)
    # What it offers residents, and what trainees can do there: Markdown, rendered once when saved.
    offer_markdown = db.Column(db.Text, nullable=False, default="")
    offer_html = db.Column(db.Text, nullable=False, default="")
    for_trainees_markdown = db.Column(db.Text, nullable=False, default="")
    for_trainees_html = db.Column(db.Text, nullable=False, default="")
    # Shown to anyone on the partner's page; the contact person and e-mail below never are.
    public_phone = db.Column(db.String(40), nullable=False, default="")
    website = db.Column(db.String(300), nullable=False, default="")
    contact_name = db.Column(db.String(200), nullable=False, default="")
    contact_email = db.Column(db.String(254), nullable=False, default="")
    active = db.Column(db.Boolean, nullable=False, default=True)
    # Trainees it takes at once (placements whose periods overlap); None: no limit.
    capacity = db.Column(db.Integer)
    published = db.Column(db.Boolean, nullable=False, default=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    # Its photo or logo; loaded by the pages that show it (selectinload), never one query per partner.
    image = db.relationship("PartnerImage", uselist=False, cascade="all, delete-orphan")

    @property
    def on_map(self):
        return self.latitude is not None and self.longitude is not None


class PartnerImage(StoredFile, db.Model):
    """A partner's photo or logo, public once the partner is published: re-encoded when uploaded (no camera
    metadata such as where it was taken, at most MAX_SIDE pixels), with a small copy for the directory's list."""

    __tablename__ = "partner_images"

    site_id = db.Column(db.Integer, db.ForeignKey("practice_sites.id", ondelete="CASCADE"), primary_key=True)
    # What the picture shows, for those who cannot see it (the img's alt); the partner's name when empty.
    description = db.Column(db.String(300), nullable=False, default="")
    width = db.Column(db.Integer, nullable=False)
    height = db.Column(db.Integer, nullable=False)
    thumbnail = db.deferred(db.Column(db.LargeBinary, nullable=False))

    @property
    def version(self):
        """Part of the picture's address, so that a browser may keep it for a year and still sees a new one."""
        return self.sha256[:12]


class PracticeEntry(db.Model):
    """One session of field practice, as the trainee logged it."""

    __tablename__ = "practice_entries"
    __table_args__ = (
        db.Index("ix_practice_entries_trainee_date", "trainee_id", "date"),
        db.Index("ix_practice_entries_status_submitted_at", "status", "submitted_at", "id"),
        # Covering indexes, so totals over a million entries read an index in order instead of the table:
        # the programme report's per day, activity and site; per trainee, the cohort matrix's and the
        # funnel's approved hours and kinds of activity.
        db.Index("ix_practice_entries_report", "status", "date", "activity_type", "site_id", "cohort_id", "minutes",
                 "participants"),
        db.Index("ix_practice_entries_status_trainee", "status", "trainee_id", "cohort_id", "activity_type",
                 "minutes"),
        # A mentor's waiting entries, found from the mentor's cohorts rather than among everyone's.
        db.Index("ix_practice_entries_cohort_status", "cohort_id", "status", "submitted_at", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id"), nullable=False, index=True)
    site_id = db.Column(db.Integer, db.ForeignKey("practice_sites.id"), nullable=False, index=True)
    date = db.Column(db.Date, nullable=False)
    start_time = db.Column(db.Time)
    end_time = db.Column(db.Time)
    minutes = db.Column(db.Integer, nullable=False)
    activity_type = db.Column(db.String(40), nullable=False)
    participants = db.Column(db.Integer, nullable=False, default=0)
    description_markdown = db.Column(db.Text, nullable=False, default="")
    description_html = db.Column(db.Text, nullable=False, default="")
    reflection_markdown = db.Column(db.Text, nullable=False, default="")
    reflection_html = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(20), nullable=False, default="draft")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    submitted_at = db.Column(db.DateTime)
    reviewed_at = db.Column(db.DateTime)
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    # When a mentor first opened the submitted entry; until then the trainee may withdraw it to correct it.
    review_opened_at = db.Column(db.DateTime)
    mentor_comment_markdown = db.Column(db.Text, nullable=False, default="")
    mentor_comment_html = db.Column(db.Text, nullable=False, default="")
    # Made on the trainee's phone for an entry saved offline, so a send repeated after a timeout finds the entry
    # already made instead of making a second one.
    idempotency_key = db.Column(db.String(64), unique=True)
    version = db.Column(db.Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    trainee = db.relationship("User", foreign_keys=[trainee_id])
    reviewed_by = db.relationship("User", foreign_keys=[reviewed_by_id])
    cohort = db.relationship("Cohort")
    site = db.relationship("PracticeSite")
    audiences = db.relationship("PracticeEntryAudience", cascade="all, delete-orphan",
                                order_by="PracticeEntryAudience.audience")
    modules = db.relationship("Module", secondary="practice_entry_modules", order_by="Module.position")
    attachments = db.relationship("PracticeAttachment", back_populates="entry", cascade="all, delete-orphan",
                                  order_by="PracticeAttachment.id")
    confirmations = db.relationship("SiteConfirmation", back_populates="entry", cascade="all, delete-orphan",
                                    order_by="SiteConfirmation.id")

    @property
    def hours(self):
        return self.minutes / 60

    @property
    def editable(self):
        return self.status in ("draft", "returned")


class PracticeEntryAudience(db.Model):
    """An audience an entry reached and how many of them took part; a row each for reports in SQL."""

    __tablename__ = "practice_entry_audiences"

    entry_id = db.Column(db.Integer, db.ForeignKey("practice_entries.id", ondelete="CASCADE"), primary_key=True)
    audience = db.Column(db.String(30), primary_key=True)
    participants = db.Column(db.Integer, nullable=False, default=0)


class PracticeEntryModule(db.Model):
    __tablename__ = "practice_entry_modules"

    entry_id = db.Column(db.Integer, db.ForeignKey("practice_entries.id", ondelete="CASCADE"), primary_key=True)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True)


class PracticeAttachment(StoredFile, db.Model):
    """A photo or document of an entry, kept in the database like assignment files."""

    __tablename__ = "practice_attachments"

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("practice_entries.id", ondelete="CASCADE"), nullable=False,
                         index=True)

    entry = db.relationship("PracticeEntry", back_populates="attachments")


class SiteConfirmation(db.Model):
    """A request to the site's contact person to confirm an entry, answered through a one-time link."""

    __tablename__ = "site_confirmations"

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("practice_entries.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    nonce = db.Column(db.String(32), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    answered_at = db.Column(db.DateTime)
    decision = db.Column(db.String(10))  # confirmed / declined
    contact_name = db.Column(db.String(200))
    comment = db.Column(db.Text)

    entry = db.relationship("PracticeEntry", back_populates="confirmations")


# Approved practice totalled as it is approved, so that the programme report and the certificate rules read a
# few totals instead of every entry (a million at dataset L). Kept by lms/practice/totals.py in the same transaction as
# the review; only approved entries count. The day totals leave out the cohort: with it there was nearly a total
# for each entry, and a cohort's report reads its own entries.
class PracticeDayTotal(db.Model):
    """Approved practice of one day, site and kind of activity."""

    __tablename__ = "practice_day_totals"

    date = db.Column(db.Date, primary_key=True)
    site_id = db.Column(db.Integer, db.ForeignKey("practice_sites.id"), primary_key=True)
    activity_type = db.Column(db.String(40), primary_key=True)
    entries = db.Column(db.Integer, nullable=False)
    minutes = db.Column(db.Integer, nullable=False)
    participants = db.Column(db.Integer, nullable=False)


class PracticeAudienceDayTotal(db.Model):
    """Approved practice of one day that reached an audience: the entries' minutes, the audience's participants."""

    __tablename__ = "practice_audience_day_totals"

    date = db.Column(db.Date, primary_key=True)
    audience = db.Column(db.String(30), primary_key=True)
    entries = db.Column(db.Integer, nullable=False)
    minutes = db.Column(db.Integer, nullable=False)
    participants = db.Column(db.Integer, nullable=False)


class PracticeTraineeTotal(db.Model):
    """A trainee's approved practice of one kind of activity in a cohort: the hours and kinds the certificate
    rules ask for (lms/certificates/eligibility.py) and the report's funnel."""

    __tablename__ = "practice_trainee_totals"
    # Covering, so that the totals of a cohort's trainees are read from the index (PostgreSQL scanned the table).
    __table_args__ = (db.Index("ix_practice_trainee_totals_minutes", "trainee_id", "cohort_id", "activity_type",
                               "minutes"),)

    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), primary_key=True)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id"), primary_key=True)
    activity_type = db.Column(db.String(40), primary_key=True)
    entries = db.Column(db.Integer, nullable=False)
    minutes = db.Column(db.Integer, nullable=False)
