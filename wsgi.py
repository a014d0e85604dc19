import gc

from config import Config
from lms import create_app

app = create_app(Config)
# What start-up created lives as long as the process: kept out of the collector's full passes, which otherwise
# scan it all and stall a request for tens of milliseconds now and then.
gc.freeze()
