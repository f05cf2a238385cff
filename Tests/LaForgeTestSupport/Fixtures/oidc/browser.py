"""A stand-in for the user's browser in `laforge login` tests ($BROWSER): approves the login at
oidc-provider-mock's authorization page as the subject $LAFORGE_TEST_LOGIN_SUB (its form posts
`sub`), then follows the provider's redirect to laforge's loopback callback, as a browser would.

    BROWSER="python browser.py" laforge login
"""

import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


url = sys.argv[1]
subject = os.environ.get("LAFORGE_TEST_LOGIN_SUB", "alice")
opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(urllib.request.Request(url, data=urllib.parse.urlencode({"sub": subject}).encode(), method="POST"))
    sys.exit("browser.py: the provider did not redirect")
except urllib.error.HTTPError as error:
    if error.code not in (301, 302, 303, 307):
        sys.exit(f"browser.py: the provider answered {error.code}")
    location = error.headers["Location"]
urllib.request.urlopen(location, timeout=10).read()
