from config import Config
from lms import create_app

app = create_app(Config)
