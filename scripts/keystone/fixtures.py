#!/usr/bin/python3
"""Test fixtures for sluice's Keystone, reconciled through Keystone's own v3 REST API.

Called by keystone.sh (Debian's /usr/bin/python3, standard library only):

  fixtures.py secrets DATA         make DATA/secrets.json (0600) once: random passwords
  fixtures.py admin-password DATA  print the bootstrap admin's password (for a pipe only)
  fixtures.py apply DATA URL       create what is missing, repair what drifted, and write
                                   DATA/fixtures.json (0600) with every id, name and secret

`apply` is idempotent: existing objects are found by name and kept (ids never change), a
fixture user's password is reset only when it no longer authenticates, direct role
assignments on a fixture user's own project are made exactly the listed ones, and the
object-store endpoints follow KEYSTONE_SWIFT_URL. Nothing secret is printed: one summary
line on success, one `error: ...` line on failure (the traceback goes to DATA/log/fixtures.log).
"""

import json
import os
import secrets
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_DOMAIN = "Default"
SECOND_DOMAIN = "domain-2"

ROLES = ["admin", "member", "reader", "swiftoperator", "ResellerAdmin", "service"]

# name -> domain name. `admin` is made by `keystone-manage bootstrap`.
PROJECTS = {
    "admin": DEFAULT_DOMAIN,
    "service": DEFAULT_DOMAIN,
    "proj-a": DEFAULT_DOMAIN,
    "proj-b": DEFAULT_DOMAIN,
    "proj-d2": SECOND_DOMAIN,
}

# name -> (domain, project, direct roles on that project, what a test uses it for).
# `admin` is the bootstrap user; its password comes from secrets.json like the others.
USERS = {
    "admin": (DEFAULT_DOMAIN, "admin", ["admin"],
              "bootstrap cloud admin (admin role on the admin project)"),
    "sluice": (DEFAULT_DOMAIN, "service", ["admin", "service"],
               "authtoken's service user: validates tokens; its token is an X-Service-Token with a service role"),
    "operator-a": (DEFAULT_DOMAIN, "proj-a", ["swiftoperator"],
                   "owner of proj-a's account (keystoneauth operator_roles)"),
    "member-a": (DEFAULT_DOMAIN, "proj-a", ["member"],
                 "member of proj-a with no operator role"),
    "reader-a": (DEFAULT_DOMAIN, "proj-a", ["reader"],
                 "reader of proj-a only"),
    "operator-b": (DEFAULT_DOMAIN, "proj-b", ["swiftoperator"],
                   "owner of proj-b's account: another project's user for cross-project ACLs"),
    "member-b": (DEFAULT_DOMAIN, "proj-b", ["member"],
                 "member of proj-b with no operator role"),
    "reseller": (DEFAULT_DOMAIN, "service", ["ResellerAdmin"],
                 "reseller admin (keystoneauth reseller_admin_role): any account"),
    "other-service": (DEFAULT_DOMAIN, "service", ["service"],
                      "a service with the service role but not admin (X-Service-Token)"),
    "user-d2": (SECOND_DOMAIN, "proj-d2", ["swiftoperator"],
                "operator of a project outside the default domain (names in ACLs must not match)"),
}

# owner -> application credential name; its roles are the owner's roles on its project.
APP_CREDS = {"operator-a": "sluice-test"}


def fail(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(1)


def write_private(path, obj):
    """Write JSON atomically, mode 0600 from the first byte."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def new_secret():
    return secrets.token_urlsafe(18)  # 24 characters, [A-Za-z0-9_-]


def secrets_path(data):
    return os.path.join(data, "secrets.json")


def load_secrets(data):
    try:
        with open(secrets_path(data)) as f:
            return json.load(f)
    except FileNotFoundError:
        fail("%s is missing (run keystone.sh start)" % secrets_path(data))


def ensure_secrets(data):
    """Random passwords, made once per data dir; later runs only add what is new."""
    path = secrets_path(data)
    try:
        with open(path) as f:
            current = json.load(f)
    except FileNotFoundError:
        current = {"users": {}, "application_credentials": {}}
    changed = not os.path.exists(path)
    for name in USERS:
        if name not in current["users"]:
            current["users"][name] = new_secret()
            changed = True
    for owner in APP_CREDS:
        if owner not in current["application_credentials"]:
            current["application_credentials"][owner] = new_secret()
            changed = True
    if changed or os.stat(path).st_mode & 0o077:  # new entries, or readable by others
        write_private(path, current)


class Keystone:
    def __init__(self, v3):
        self.v3 = v3.rstrip("/")
        self.token = None
        self.requests = 0

    def call(self, method, path, body=None, token=None, headers=None, ok=(200, 201, 204)):
        hdrs = {"Accept": "application/json"}
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        tok = token if token is not None else self.token
        if tok:
            hdrs["X-Auth-Token"] = tok
        hdrs.update(headers or {})
        req = urllib.request.Request(self.v3 + path, method=method, headers=hdrs,
                                     data=None if body is None else json.dumps(body).encode())
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                status, rh = resp.status, resp.headers
        except urllib.error.HTTPError as e:
            raw, status, rh = e.read(), e.code, e.headers
        doc = json.loads(raw) if raw and raw.strip() else None
        if ok is not None and status not in ok:
            detail = (doc or {}).get("error", {}).get("message", "") if isinstance(doc, dict) else ""
            raise RuntimeError("%s %s -> %s %s" % (method, path.split("?")[0], status, detail))
        return status, rh, doc

    def get(self, path, **query):
        q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        return self.call("GET", path + ("?" + q if q else ""))[2]

    def password_token(self, user_id, password, project_id=None):
        """(status, token or None) for the password method; project scope if given."""
        auth = {"identity": {"methods": ["password"],
                             "password": {"user": {"id": user_id, "password": password}}}}
        if project_id:
            auth["scope"] = {"project": {"id": project_id}}
        status, h, _ = self.call("POST", "/auth/tokens?nocatalog", {"auth": auth}, token="", ok=None)
        return status, h.get("X-Subject-Token") if status == 201 else None


def one(items, what):
    if len(items) > 1:
        raise RuntimeError("more than one %s: %s" % (what, [i.get("id") for i in items]))
    return items[0] if items else None


def apply(data, v3):
    sec = load_secrets(data)
    ks = Keystone(v3)
    made, repaired = [], []

    # The bootstrap admin, by name in the default domain (bootstrap made it).
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": sec["users"]["admin"]}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}
    status, h, _ = ks.call("POST", "/auth/tokens?nocatalog", {"auth": auth}, token="", ok=None)
    if status != 201:
        raise RuntimeError("the bootstrap admin cannot authenticate (%s): is secrets.json from "
                           "another data dir?" % status)
    ks.token = h["X-Subject-Token"]

    domains = {DEFAULT_DOMAIN: ks.get("/domains/default")["domain"]}
    d2 = one(ks.get("/domains", name=SECOND_DOMAIN)["domains"], "domain " + SECOND_DOMAIN)
    if d2 is None:
        d2 = ks.call("POST", "/domains", {"domain": {
            "name": SECOND_DOMAIN, "description": "sluice test fixture: a second domain"}})[2]["domain"]
        made.append("domain " + SECOND_DOMAIN)
    domains[SECOND_DOMAIN] = d2

    roles = {}
    for name in ROLES:
        r = one([r for r in ks.get("/roles", name=name)["roles"] if not r.get("domain_id")], "role " + name)
        if r is None:
            r = ks.call("POST", "/roles", {"role": {"name": name}})[2]["role"]
            made.append("role " + name)
        roles[name] = r

    projects = {}
    for name, dom in PROJECTS.items():
        did = domains[dom]["id"]
        p = one(ks.get("/projects", name=name, domain_id=did)["projects"], "project " + name)
        if p is None:
            p = ks.call("POST", "/projects", {"project": {
                "name": name, "domain_id": did, "enabled": True,
                "description": "sluice test fixture"}})[2]["project"]
            made.append("project " + name)
        elif not p.get("enabled", True):
            ks.call("PATCH", "/projects/" + p["id"], {"project": {"enabled": True}})
            repaired.append("project %s enabled" % name)
        projects[name] = p

    users = {}
    for name, (dom, proj, want_roles, purpose) in USERS.items():
        did, pid, pw = domains[dom]["id"], projects[proj]["id"], sec["users"][name]
        u = one(ks.get("/users", name=name, domain_id=did)["users"], "user " + name)
        if u is None:
            u = ks.call("POST", "/users", {"user": {
                "name": name, "domain_id": did, "password": pw, "enabled": True,
                "default_project_id": pid, "description": purpose}})[2]["user"]
            made.append("user " + name)
        else:
            if not u.get("enabled", True):
                ks.call("PATCH", "/users/" + u["id"], {"user": {"enabled": True}})
                repaired.append("user %s enabled" % name)
            if ks.password_token(u["id"], pw)[0] != 201:
                ks.call("PATCH", "/users/" + u["id"], {"user": {"password": pw}})
                repaired.append("user %s password" % name)
        have = {r["name"] for r in ks.get("/projects/%s/users/%s/roles" % (pid, u["id"]))["roles"]}
        for rn in want_roles:
            if rn not in have:
                ks.call("PUT", "/projects/%s/users/%s/roles/%s" % (pid, u["id"], roles[rn]["id"]))
                if name != "admin" and "user " + name not in made:
                    repaired.append("user %s role %s" % (name, rn))
        for rn in sorted(have - set(want_roles)):
            rid = next((r["id"] for r in roles.values() if r["name"] == rn), None)
            if rid is None:  # a role that is not a fixture: look it up to remove it
                rid = one(ks.get("/roles", name=rn)["roles"], "role " + rn)["id"]
            ks.call("DELETE", "/projects/%s/users/%s/roles/%s" % (pid, u["id"], rid))
            repaired.append("user %s extra role %s removed" % (name, rn))
        users[name] = {
            "id": u["id"], "name": name, "password": pw, "purpose": purpose,
            "domain_id": did, "domain_name": dom,
            "project": proj, "project_id": pid,
            "project_domain_id": did, "project_domain_name": dom,
            "roles": want_roles,
        }

    # object-store service and its three endpoints
    region = os.environ.get("KEYSTONE_REGION", "RegionOne")
    swift_url = os.environ.get("KEYSTONE_SWIFT_URL", "http://127.0.0.1:8080/v1/AUTH_%(project_id)s")
    svc = one(ks.get("/services", type="object-store")["services"], "object-store service")
    if svc is None:
        svc = ks.call("POST", "/services", {"service": {
            "type": "object-store", "name": "swift", "enabled": True,
            "description": "sluice (Swift API) under test"}})[2]["service"]
        made.append("service object-store")
    endpoints = {}
    for iface in ("public", "internal", "admin"):
        # This region's only: a swiftclient smoke adds a region of its own while it runs
        # (scripts/lib/keystone-smoke-region.py), which a concurrent start must leave alone.
        e = one(ks.get("/endpoints", service_id=svc["id"], interface=iface, region_id=region)["endpoints"],
                "object-store %s endpoint in %s" % (iface, region))
        if e is None:
            e = ks.call("POST", "/endpoints", {"endpoint": {
                "service_id": svc["id"], "interface": iface, "url": swift_url,
                "region_id": region, "enabled": True}})[2]["endpoint"]
            made.append("endpoint object-store " + iface)
        elif e["url"] != swift_url or e.get("region_id") != region or not e.get("enabled", True):
            e = ks.call("PATCH", "/endpoints/" + e["id"], {"endpoint": {
                "url": swift_url, "region_id": region, "enabled": True}})[2]["endpoint"]
            repaired.append("endpoint object-store %s" % iface)
        endpoints[iface] = {"id": e["id"], "url": e["url"]}
    identity = one(ks.get("/services", type="identity")["services"], "identity service")

    # application credentials: made by their owner (Keystone's policy), with a known secret
    app_creds = {}
    for owner, acname in APP_CREDS.items():
        u = users[owner]
        secret = sec["application_credentials"][owner]
        status, utok = ks.password_token(u["id"], u["password"], u["project_id"])
        if status != 201:
            raise RuntimeError("fixture user %s cannot authenticate (%s)" % (owner, status))
        _, _, doc = ks.call("GET", "/users/%s/application_credentials?name=%s" % (u["id"], acname), token=utok)
        ac = one(doc["application_credentials"], "application credential " + acname)
        if ac is not None and not app_cred_works(ks, ac["id"], secret):
            ks.call("DELETE", "/users/%s/application_credentials/%s" % (u["id"], ac["id"]), token=utok)
            repaired.append("application credential %s recreated (new id)" % acname)
            ac = None
        if ac is None:
            ac = ks.call("POST", "/users/%s/application_credentials" % u["id"], {"application_credential": {
                "name": acname, "secret": secret,
                "description": "sluice test fixture (roles: the owner's on its project)"}},
                token=utok)[2]["application_credential"]
            made.append("application credential " + acname)
        app_creds[owner] = {
            "id": ac["id"], "name": acname, "secret": secret,
            "user": owner, "user_id": u["id"], "project_id": ac["project_id"],
            "roles": sorted(r["name"] for r in ac.get("roles", [])),
        }

    base = v3[:-len("/v3")] if v3.endswith("/v3") else v3
    sluice = users["sluice"]
    fixtures = {
        "format": 1,
        "keystone": {
            "url": base, "v3_url": v3, "region": region,
            "version": os.environ.get("KEYSTONE_VERSION", ""),
            "token_expiration": int(os.environ.get("KEYSTONE_TOKEN_EXPIRATION", "3600")),
            "identity_service_id": identity["id"] if identity else None,
        },
        "domains": {n: {"id": d["id"], "name": n} for n, d in domains.items()},
        "projects": {n: {"id": p["id"], "name": n, "domain_id": domains[PROJECTS[n]]["id"],
                         "domain_name": PROJECTS[n]} for n, p in projects.items()},
        "roles": {n: {"id": r["id"], "name": n} for n, r in roles.items()},
        "users": users,
        "application_credentials": app_creds,
        "object_store": {"service_id": svc["id"], "url_template": swift_url, "endpoints": endpoints},
        # keystonemiddleware auth_token options for sluice's authtoken filter
        "authtoken": {
            "www_authenticate_uri": base, "auth_url": base, "auth_type": "password",
            "username": sluice["name"], "password": sluice["password"],
            "user_domain_id": "default", "project_name": "service", "project_domain_id": "default",
            "region_name": region, "service_token_roles": "service",
        },
    }
    out = os.path.join(data, "fixtures.json")
    write_private(out, fixtures)
    print("fixtures: %d users, %d projects, %d roles, %d domains; created %d, repaired %d%s (%d requests)" % (
        len(users), len(projects), len(roles), len(domains), len(made), len(repaired),
        (": " + ", ".join(repaired)) if repaired else "", ks.requests), file=sys.stderr)


def app_cred_works(ks, ac_id, secret):
    status, _, _ = ks.call("POST", "/auth/tokens?nocatalog", {"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": ac_id, "secret": secret}}}}, token="", ok=None)
    return status == 201


def main(argv):
    if len(argv) < 3 or argv[1] not in ("secrets", "admin-password", "apply"):
        fail("usage: fixtures.py secrets|admin-password DATA | apply DATA V3_URL")
    cmd, data = argv[1], argv[2]
    if cmd == "secrets":
        ensure_secrets(data)
    elif cmd == "admin-password":
        sys.stdout.write(load_secrets(data)["users"]["admin"])
    else:
        if len(argv) != 4:
            fail("usage: fixtures.py apply DATA V3_URL")
        os.makedirs(os.path.join(data, "log"), exist_ok=True)
        try:
            apply(data, argv[3])
        except Exception as e:  # one line for the caller, the traceback to the log
            with open(os.path.join(data, "log", "fixtures.log"), "a") as f:
                f.write("%s\n" % time.strftime("%Y-%m-%dT%H:%M:%S"))
                traceback.print_exc(file=f)
            fail("fixtures: %s" % e)


if __name__ == "__main__":
    main(sys.argv)
