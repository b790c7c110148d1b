"""Headless Debian Chromium driven through its ChromeDriver (selenium), for tests of pages the project writes.

``scripts/setup_env.sh`` installs the ``chromium`` and ``chromium-driver`` packages when they are missing; where that
is impossible (no apt, no root) the browser tests skip with the reason. The flags keep Chromium from reaching for
the network (a closed network makes it retry connections at every start).
"""
import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get('MRR_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('MRR_CHROMEDRIVER', '/usr/bin/chromedriver')
FLAGS = ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--window-size=1400,1000')


def headless_chromium():
    """A selenium WebDriver of headless Chromium (quit it when done); skips the test when there is none."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.skip(f'no headless Chromium here ({", ".join(missing)} missing; Debian packages chromium and '
                    'chromium-driver, installed by scripts/setup_env.sh where apt-get may run)')
    webdriver = pytest.importorskip('selenium.webdriver', reason='selenium is installed by scripts/setup_env.sh')
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix='chromium-profile-')
    for flag in (*FLAGS, f'--user-data-dir={profile}'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    original_quit = driver.quit

    def quit_and_clean():
        try:
            original_quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
    driver.quit = quit_and_clean
    return driver
