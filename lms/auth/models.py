from flask_login import UserMixin

from lms.clock import utcnow
from lms.extensions import db

ROLES = ("trainee", "mentor", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email = db.Column(db.String(254), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    password_hash = db.Column(db.String(255))
    active = db.Column(db.Boolean, nullable=False, default=True)
    locale = db.Column(db.String(5))
    # Bumped on logout, password change and deactivation: every older session cookie stops working.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    # The person's random identifier in Open Badges credentials ("urn:uuid:..."), made at their first certificate:
    # nothing in it leads back to this row.
    credential_subject = db.Column(db.String(45))
    # The secret in the address of the person's calendar feed (/calendar/<token>.ics); renewing it ends the old one.
    calendar_token = db.Column(db.String(40), unique=True)
    # The one set-password link the person holds: its key is in the link, so a new link ends the old one, and the
    # current link can be shown again (an import's list of links, the user's page) until it expires.
    password_link_key = db.Column(db.String(16))
    password_link_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(db.DateTime)
    # Kept by lms.notifications as notifications are made and read: the bell on every page costs no query.
    unread_notifications = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    role_rows = db.relationship("UserRole", cascade="all, delete-orphan", lazy="selectin",
                                order_by="UserRole.role")

    @property
    def roles(self):
        if "role_names" in self.__dict__ and "role_rows" not in self.__dict__:
            return set(self.role_names.split())
        return {row.role for row in self.role_rows}

    def has_role(self, role):
        return role in self.roles

    @property
    def is_trainee(self):
        return "trainee" in self.roles

    @property
    def is_mentor(self):
        return "mentor" in self.roles

    @property
    def is_admin(self):
        return "admin" in self.roles

    @property
    def is_staff(self):
        return self.is_mentor or self.is_admin

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def __repr__(self):
        return f"<User {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role = db.Column(db.String(20), primary_key=True)


# The roles as one string, read with the user's row where a query asks for it (`undefer`): each signed-in request
# does (lms/__init__.py), and reading them so costs half of what loading the role rows as objects does.
User.role_names = db.column_property(
    db.select(db.func.coalesce(db.func.aggregate_strings(UserRole.role, db.literal_column("' '")), ""))
    .where(UserRole.user_id == User.id).correlate_except(UserRole).scalar_subquery(), deferred=True)


def find_user_by_email(email):
    return db.session.scalar(db.select(User).where(User.email == normalize_email(email)))


def normalize_email(email):
    return (email or "").strip().lower()
