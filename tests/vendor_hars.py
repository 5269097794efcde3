"""Hand-made HAR files in the shapes browsers and proxies export, with secrets in every place a
customer's HAR carries them. Each vendor's quirks (from their exports and the HAR readers that
handle them):
- Chromium / Chrome devtools: HTTP/2 pseudo-headers (`:path` holds the query), lower-case names,
  `_initiator`, `_priority`, `_resourceType`, `_transferSize`, cookies and queryString arrays with
  values, base64 response content, `status: 0` with `_error: net::ERR_FAILED` for CORS failures;
- Firefox: capitalised names, several Set-Cookie lines joined by newlines in one header, form bodies
  as `postData.params` *and* text, `redirectURL` filled in, `timings.ssl: -1`;
- Safari (Web Inspector): `_fetchType`, `_priority`, some responses with no `text` (size only);
- Charles Proxy: `creator.name` "Charles Proxy", HTTP/2 pseudo-headers in requests *and* responses
  (`:status`), every body base64-encoded, `comment` fields, `serverIPAddress`, `connection`;
- Fiddler: `creator.name` "Fiddler", `startedDateTime` with 7 fractional digits and a zone offset,
  `comment` fields, timings of -1, base64 only for binary bodies.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode, urlsplit

TENANT = "acme.eu.auth0.com"
APP = "https://app.acme.example"


def _jwt(claims: dict, signature: str) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims)}.{signature}"


# Every value a customer's HAR may hold that must never reach a bundle (name → value).
SECRETS = {
    "client_secret": "CsEcReT-7f3a9b2c4d5e6f708192a3b4",
    "password": "Hunter2-Pa55word-Zq8",
    "x_api_key": "ak_live_51HqLyjWDarjtT1zdp7dc",
    "x_custom_token": "xct-9d8c7b6a5f4e3d2c1b0a",
    "proxy_password": "Pr0xyPassw0rd-4471",
    "cookie_auth0": "s%3AvKq8mYbQ2Zt0Lr5Np3Wx.Fh7Gd2Ks9Lm4",
    "cookie_did": "s%3Av0%3A7c4e2a90-1b3d-11ef.Ab12Cd34Ef56",
    "set_cookie_session": "sess-Gh5Jk8Lm2Np4Qr6St9Vw",
    "login_ticket": "LtKt-Wq8Er7Ty6Ui5Op4As3Df2",
    "co_verifier": "CoVf-Zx9Cv8Bn7Mm6Lk5Jh4Gf3",
    "device_code": "DvCd-Qa1Ws2Ed3Rf4Tg5Yh6Uj7",
    "user_code": "BDWP-HQPK-9K2F",
    "auth_code": "AuCo-Pl0Ok9Ij8Uh7Yg6Tf5",
    "code_verifier": "CdVr-Mn3Bv4Cx5Za6Sd7Fg8Hj9Kl0Qw1Er2Ty",
    "state": "StAt-hKFo2SBmZ3Jqd0pXcjVr",
    "nonce": "NoNc-Rt6Yu7Io8Pa9Sd0Fg",
    "mfa_token": "Fe26.2*1*MfAtOkEn" + "k" * 60,
    "refresh_token": "v1.RfTk-Rr7Tt8Yy9Uu0Ii1Oo2Pp3Aa4Ss5Dd6",
    "totp_seed": "JBSWY3DPEHPK3PXPKRUGS4ZANFZSAYJA",
    "recovery_code": "RC7Q2W9E4R6T8Y1U3I5O0P2A",
    "access_token_sig": "AtSiGnAtUrE-Kq3Lw8Nz2Xv7Bm5Yc4Rf1Tg6Hj9",
    "id_token_sig": "IdSiGnAtUrE-Pq8Wr3Te7Yu2Io6Pa1Sd5Fg9Hk4",
    "fragment_access_sig": "FrAgSiG-Zq1Xw2Ec3Rv4Tb5Yn6Um7Ik8Ol9",
    "fragment_id_sig": "FrIdSiG-Aq9Sw8De7Fr6Gt5Hy4Ju3Ki2Lo1",
    "otp": "482913",
}
ACCESS_TOKEN = _jwt({"iss": f"https://{TENANT}/", "aud": f"https://{TENANT}/mfa/", "scope": "enroll read:authenticators",
                     "exp": 1_900_000_000, "sub": "auth0|abc"}, SECRETS["access_token_sig"])
ID_TOKEN = _jwt({"iss": f"https://{TENANT}/", "aud": "appclient", "email": "jane.doe@customer.example",
                 "nonce": SECRETS["nonce"], "exp": 1_900_000_000}, SECRETS["id_token_sig"])
FRAGMENT_ACCESS = _jwt({"iss": f"https://{TENANT}/", "aud": "https://api.acme.example/", "exp": 1_900_000_000},
                       SECRETS["fragment_access_sig"])
FRAGMENT_ID = _jwt({"iss": f"https://{TENANT}/", "aud": "appclient", "exp": 1_900_000_000}, SECRETS["fragment_id_sig"])
# Whole tokens must not survive either (their header and claims may: that is the point of keeping them).
WHOLE_TOKENS = {"access_token": ACCESS_TOKEN, "id_token": ID_TOKEN,
                "fragment_access_token": FRAGMENT_ACCESS, "fragment_id_token": FRAGMENT_ID}
BASIC = base64.b64encode(f"proxyuser:{SECRETS['proxy_password']}".encode()).decode()
FORM = "application/x-www-form-urlencoded"


def exchanges() -> list[dict]:
    """The customer's flow, vendor-neutral: each place a secret travels in."""
    s = SECRETS
    cookie = f"auth0={s['cookie_auth0']}; did={s['cookie_did']}"
    callback = f"{APP}/callback?code={s['auth_code']}&state={s['state']}"
    return [
        dict(method="POST", url=f"https://{TENANT}/co/authenticate",
             headers=[("Content-Type", "application/json"), ("Origin", APP), ("x-api-key", s["x_api_key"]),
                      ("x-custom-token", s["x_custom_token"]), ("Proxy-Authorization", f"Basic {BASIC}")],
             body=json.dumps({"client_id": "appclient", "username": "jane.doe@customer.example",
                              "password": s["password"], "credential_type": "http://auth0.com/oauth/grant-type/password-realm",
                              "realm": "Username-Password-Authentication"}), mime="application/json",
             status=200, response_headers=[("Content-Type", "application/json"), ("Set-Cookie",
                                                                                   f"sess={s['set_cookie_session']}; Path=/; Secure; HttpOnly; SameSite=None")],
             response=json.dumps({"login_ticket": s["login_ticket"], "co_verifier": s["co_verifier"], "co_id": "Xy12"}),
             response_mime="application/json"),
        dict(method="GET", url=f"https://{TENANT}/authorize?client_id=appclient&response_type=code&redirect_uri="
                               f"{APP}/callback&login_ticket={s['login_ticket']}&state={s['state']}&nonce={s['nonce']}"
                               f"&code_challenge=abc&code_challenge_method=S256",
             headers=[("Cookie", cookie), ("Referer", f"{APP}/login")], status=302,
             response_headers=[("Location", callback)], response=""),
        dict(method="GET", url=callback, headers=[("Referer", f"https://{TENANT}/u/login?state={s['state']}")],
             status=200, response_headers=[("Content-Type", "text/html")], response="<html>signed in</html>",
             response_mime="text/html"),
        dict(method="POST", url=f"https://{TENANT}/oauth/token",
             headers=[("Content-Type", FORM), ("Referer", callback), ("Cookie", cookie)],
             body=urlencode({"grant_type": "authorization_code", "client_id": "appclient", "client_secret": s["client_secret"],
                             "code": s["auth_code"], "code_verifier": s["code_verifier"], "redirect_uri": f"{APP}/callback"}),
             mime=FORM, status=200, response_headers=[("Content-Type", "application/json")],
             response=json.dumps({"access_token": ACCESS_TOKEN, "id_token": ID_TOKEN, "refresh_token": s["refresh_token"],
                                  "token_type": "Bearer", "expires_in": 86400}), response_mime="application/json"),
        dict(method="GET", url=f"https://{TENANT}/authorize?response_type=token%20id_token&client_id=appclient&state={s['state']}",
             headers=[("Referer", callback)], status=302,
             response_headers=[("Location", f"{APP}/#access_token={FRAGMENT_ACCESS}&id_token={FRAGMENT_ID}"
                                            f"&state={s['state']}&token_type=Bearer&expires_in=7200")], response=""),
        dict(method="POST", url=f"https://{TENANT}/oauth/device/code", headers=[("Content-Type", FORM)],
             body=urlencode({"client_id": "appclient", "scope": "openid"}), mime=FORM, status=200,
             response_headers=[("Content-Type", "application/json")],
             response=json.dumps({"device_code": s["device_code"], "user_code": s["user_code"], "interval": 5,
                                  "verification_uri_complete": f"https://{TENANT}/activate?user_code={s['user_code']}"}),
             response_mime="application/json"),
        dict(method="POST", url=f"https://{TENANT}/oauth/token", headers=[("Content-Type", "application/json")],
             body=json.dumps({"grant_type": "password", "client_id": "appclient", "username": "jane.doe@customer.example",
                              "password": s["password"], "client_secret": s["client_secret"]}), mime="application/json",
             status=403, response_headers=[("Content-Type", "application/json")],
             response=json.dumps({"error": "mfa_required", "error_description": "Multifactor authentication required",
                                  "mfa_token": s["mfa_token"]}), response_mime="application/json"),
        dict(method="POST", url=f"https://{TENANT}/mfa/associate",
             headers=[("Content-Type", "application/json"), ("Authorization", f"Bearer {s['mfa_token']}")],
             body=json.dumps({"authenticator_types": ["otp"]}), mime="application/json", status=200,
             response_headers=[("Content-Type", "application/json")],
             response=json.dumps({"authenticator_type": "otp", "secret": s["totp_seed"], "recovery_codes": [s["recovery_code"]],
                                  "barcode_uri": f"otpauth://totp/acme:jane?secret={s['totp_seed']}&issuer=acme"}),
             response_mime="application/json"),
        dict(method="POST", url=f"https://{TENANT}/oauth/token", headers=[("Content-Type", FORM)],
             body=urlencode({"grant_type": "http://auth0.com/oauth/grant-type/mfa-otp", "client_id": "appclient",
                             "client_secret": s["client_secret"], "mfa_token": s["mfa_token"], "otp": s["otp"]}),
             mime=FORM, status=403, response_headers=[("Content-Type", "application/json")],
             response=json.dumps({"error": "invalid_grant", "error_description": "Invalid otp_code."}),
             response_mime="application/json"),
        dict(method="GET", url=f"https://{TENANT}/mfa/authenticators",
             headers=[("Authorization", f"Bearer {ACCESS_TOKEN}"), ("Origin", APP)], status=0, response_headers=[],
             response="", error="net::ERR_FAILED"),
    ]


def _pairs(pairs, capitalise=False):
    return [{"name": name.title() if capitalise and not name.startswith(":") else name.lower() if not capitalise else name,
             "value": value} for name, value in pairs]


def _query(url):
    query = urlsplit(url).query
    return [{"name": n, "value": v} for n, _, v in (p.partition("=") for p in query.split("&") if p)]


def _cookies(headers):
    found = []
    for name, value in headers:
        if name.lower() == "cookie":
            found += [{"name": n.strip(), "value": v} for n, _, v in (p.partition("=") for p in value.split(";"))]
        if name.lower() == "set-cookie":
            first = value.split(";")[0]
            found.append({"name": first.partition("=")[0], "value": first.partition("=")[2], "httpOnly": True, "secure": True})
    return found


def _content(item, base64_all=False, omit_text=False):
    text = item.get("response", "")
    content = {"size": len(text), "mimeType": item.get("response_mime", "x-unknown")}
    if omit_text:
        return content
    if base64_all and text:
        content.update(text=base64.b64encode(text.encode()).decode(), encoding="base64")
    else:
        content["text"] = text
    return content


def _post(item, with_params=False):
    if "body" not in item:
        return {}
    post = {"mimeType": item["mime"], "text": item["body"]}
    if with_params and item["mime"] == FORM:
        post["params"] = [{"name": n, "value": v} for n, _, v in (p.partition("=") for p in item["body"].split("&"))]
    return {"postData": post}


def _location(item):
    return next((v for n, v in item["response_headers"] if n.lower() == "location"), "")


def chromium() -> dict:
    entries = []
    for i, item in enumerate(exchanges()):
        parts = urlsplit(item["url"])
        pseudo = [(":authority", parts.netloc), (":method", item["method"]),
                  (":path", parts.path + (f"?{parts.query}" if parts.query else "")), (":scheme", "https")]
        entry = {
            "_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "fetch",
            "cache": {}, "connection": "443", "pageref": "page_1", "serverIPAddress": "104.18.0.1",
            "startedDateTime": f"2026-11-23T10:00:{i:02d}.123Z", "time": 80.5,
            "request": {"method": item["method"], "url": item["url"], "httpVersion": "http/2.0",
                        "headers": _pairs(pseudo + item["headers"]), "queryString": _query(item["url"]),
                        "cookies": _cookies(item["headers"]), "headersSize": -1, "bodySize": len(item.get("body", "")),
                        **_post(item)},
            "response": {"status": item["status"], "statusText": "", "httpVersion": "http/2.0",
                         "headers": _pairs(item["response_headers"]), "cookies": _cookies(item["response_headers"]),
                         "content": _content(item, base64_all=i % 2 == 0), "redirectURL": _location(item),
                         "headersSize": -1, "bodySize": -1, "_transferSize": 512, "_error": item.get("error")},
            "timings": {"blocked": 1, "dns": -1, "ssl": -1, "connect": -1, "send": 0, "wait": 79, "receive": 0.5},
        }
        entries.append(entry)
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                    "pages": [{"id": "page_1", "title": APP, "startedDateTime": "2026-11-23T10:00:00.000Z",
                               "pageTimings": {}}], "entries": entries}}


def firefox() -> dict:
    entries = []
    for i, item in enumerate(exchanges()):
        response_headers = item["response_headers"]
        if any(n == "Set-Cookie" for n, _ in response_headers):  # Firefox joins Set-Cookie lines
            response_headers = [(n, v + "\nfpc=AkZxk2Jq-Jq8ZpWQxYz; Path=/" if n == "Set-Cookie" else v)
                                for n, v in response_headers]
        entries.append({
            "pageref": "page_1", "startedDateTime": f"2026-11-23T11:00:{i:02d}.456+01:00", "time": 81,
            "request": {"bodySize": len(item.get("body", "")), "method": item["method"], "url": item["url"],
                        "httpVersion": "HTTP/1.1", "headers": _pairs([("Host", TENANT)] + item["headers"], capitalise=True),
                        "cookies": _cookies(item["headers"]), "queryString": _query(item["url"]), "headersSize": 410,
                        **_post(item, with_params=True)},
            "response": {"status": item["status"], "statusText": "OK" if item["status"] == 200 else "",
                         "httpVersion": "HTTP/1.1", "headers": _pairs(response_headers, capitalise=True),
                         "cookies": _cookies(response_headers), "content": _content(item),
                         "redirectURL": _location(item), "headersSize": 300, "bodySize": len(item.get("response", ""))},
            "cache": {}, "timings": {"blocked": 0, "dns": 0, "connect": 0, "ssl": -1, "send": 0, "wait": 80, "receive": 1},
            "secureConnectionStart": 0,
        })
    return {"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "133.0"},
                    "browser": {"name": "Firefox", "version": "133.0"}, "pages": [], "entries": entries}}


def safari() -> dict:
    entries = []
    for i, item in enumerate(exchanges()):
        entries.append({
            "pageref": "page0", "startedDateTime": f"2026-11-23T10:00:{i:02d}.000Z", "time": 90,
            "request": {"method": item["method"], "url": item["url"], "httpVersion": "HTTP/2",
                        "cookies": _cookies(item["headers"]), "headers": _pairs(item["headers"], capitalise=True),
                        "queryString": _query(item["url"]), "headersSize": -1, "bodySize": -1, **_post(item)},
            "response": {"status": item["status"], "statusText": "", "httpVersion": "HTTP/2",
                         "cookies": _cookies(item["response_headers"]),
                         "headers": _pairs(item["response_headers"], capitalise=True),
                         "content": _content(item, omit_text=item.get("response_mime") == "text/html"),
                         "redirectURL": _location(item), "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 90, "receive": 0},
            "_fetchType": "Network Load", "_priority": "medium",
        })
    return {"log": {"version": "1.2", "creator": {"name": "WebKit Web Inspector", "version": "18.1"},
                    "pages": [{"startedDateTime": "2026-11-23T10:00:00.000Z", "id": "page0", "title": APP,
                               "pageTimings": {"onContentLoad": 120, "onLoad": 300}}], "entries": entries}}


def charles() -> dict:
    entries = []
    for i, item in enumerate(exchanges()):
        parts = urlsplit(item["url"])
        pseudo = [(":method", item["method"]), (":path", parts.path + (f"?{parts.query}" if parts.query else "")),
                  (":authority", parts.netloc), (":scheme", "https")]
        entries.append({
            "startedDateTime": f"2026-11-23T10:00:{i:02d}.305+01:00", "time": 72.0,
            "request": {"method": item["method"], "url": item["url"], "httpVersion": "HTTP/2.0",
                        "cookies": _cookies(item["headers"]), "headers": _pairs(pseudo + item["headers"]),
                        "queryString": _query(item["url"]), "headersSize": 120, "bodySize": len(item.get("body", "")),
                        "comment": "", **_post(item)},
            "response": {"status": item["status"], "statusText": "", "httpVersion": "HTTP/2.0",
                         "cookies": _cookies(item["response_headers"]),
                         "headers": _pairs([(":status", str(item["status"]))] + item["response_headers"]),
                         "content": _content(item, base64_all=True), "redirectURL": _location(item),
                         "headersSize": 200, "bodySize": len(item.get("response", "")), "_charlesStatus": "COMPLETE"},
            "serverIPAddress": "10.0.0.1", "connection": "52492", "comment": "",
            "cache": {}, "timings": {"dns": -1.0, "blocked": -1.0, "connect": -1.0, "ssl": -1.0, "send": 0.0,
                                     "wait": 71.0, "receive": 1.0},
        })
    return {"log": {"version": "1.2", "creator": {"name": "Charles Proxy", "version": "4.6.7", "comment": ""},
                    "comment": "", "entries": entries}}


def fiddler() -> dict:
    entries = []
    for i, item in enumerate(exchanges()):
        entries.append({
            "startedDateTime": f"2026-11-23T12:00:{i:02d}.1234567+02:00", "time": 95, "comment": "",
            "request": {"method": item["method"], "url": item["url"], "httpVersion": "HTTP/1.1",
                        "headersSize": 500, "bodySize": len(item.get("body", "")), "comment": "",
                        "cookies": _cookies(item["headers"]), "headers": _pairs([("Host", TENANT)] + item["headers"], capitalise=True),
                        "queryString": _query(item["url"]), **_post(item, with_params=True)},
            "response": {"status": item["status"], "statusText": "OK", "httpVersion": "HTTP/1.1",
                         "headersSize": 300, "bodySize": len(item.get("response", "")), "comment": "",
                         "cookies": _cookies(item["response_headers"]),
                         "headers": _pairs(item["response_headers"], capitalise=True),
                         "content": _content(item), "redirectURL": _location(item)},
            "cache": {"comment": ""}, "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                                                  "send": 1, "wait": 93, "receive": 1, "comment": ""},
        })
    return {"log": {"version": "1.2", "comment": "exported @ 23/11/2026 12:00:30",
                    "creator": {"name": "Fiddler", "version": "5.0.20253.3311", "comment": "http://www.telerik.com/fiddler"},
                    "entries": entries}}


VENDORS = {"chromium": chromium, "firefox": firefox, "safari": safari, "charles": charles, "fiddler": fiddler}
