"""Serves OTP Lab's JupyterLab (lab/build, made by lab/build.mjs) with Debian's jupyter_server.

A LabServerApp, as JupyterLab's examples/app does: jupyter_server provides the REST and WebSocket APIs
(contents, kernels, sessions, kernelspecs), jupyterlab_server the page, settings, themes and workspaces; the
page is our own bundle of JupyterLab's npm packages, so no `jupyterlab` Python package is needed.

Run by kernel/scripts/start.sh (`npm start`). Every ServerApp option passes through (`--port`, `--no-browser`,
`--ServerApp.token=...`, `--notebook-dir`); one more flag, `--expose-app-in-browser`, puts the application in
`window.jupyterapp`, as `jupyter lab --expose-app-in-browser` does, for UI tests.
"""

import json
import os
import sys

from jupyter_core.paths import jupyter_config_dir
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyterlab_server import LabServerApp
from tornado import web, websocket
from traitlets import Bool

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")

with open(os.path.join(HERE, "package.json")) as f:
    VERSION = json.load(f)["version"]


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": OTPLabApp}]


class MeHandler(APIHandler):
    """`GET /api/me`, which jupyter_server 2 has and Debian's 1.23 lacks. JupyterLab's user manager polls it;
    without it every poll is a 404 in the log. A single-user server: the user is the one who holds the token."""

    @web.authenticated
    def get(self):
        name = os.environ.get("USER") or "learner"
        identity = {
            "username": name,
            "name": name,
            "display_name": name,
            "initials": name[:1].upper(),
            "avatar_url": None,
            "color": None,
        }
        self.finish(json.dumps({"identity": identity, "permissions": {}}))


class EventsHandler(websocket.WebSocketHandler, JupyterHandler):
    """`/api/events/subscribe`, jupyter_server 2's event stream, which 1.23 lacks. JupyterLab's event manager
    reconnects to it in a loop, logging an error each time it is refused; this accepts the (authenticated)
    connection and never sends an event, which is what a server with no events to report would do."""

    async def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403, "the token is missing or wrong")
        return await super().get(*args, **kwargs)

    def on_message(self, message):
        pass


class OTPLabApp(LabServerApp):
    name = __name__
    app_name = "OTP Lab"
    app_version = VERSION
    extension_url = "/lab"
    default_url = "/lab"
    # Only this app: other server extensions installed on the machine (nbclassic, a JupyterLab of a
    # different version) would serve pages for other bundles.
    load_other_extensions = False
    # Loopback only, whatever the machine calls "localhost"; `--ip` on the command line still wins.
    serverapp_config = {"ip": "127.0.0.1"}
    static_dir = BUILD
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    templates_dir = os.path.join(HERE, "templates")
    # Defaults of this app (no update checks or news: the app must not reach for the network).
    app_settings_dir = os.path.join(HERE, "settings")
    # The user's choices (theme, shortcuts) and layouts live where JupyterLab keeps them, not in the checkout.
    user_settings_dir = os.path.join(jupyter_config_dir(), "lab", "user-settings")
    workspaces_dir = os.path.join(jupyter_config_dir(), "lab", "workspaces")

    expose_app_in_browser = Bool(
        False, config=True, help="Expose the application as window.jupyterapp (for UI tests)."
    )

    def initialize_settings(self):
        super().initialize_settings()
        settings = self.serverapp.web_app.settings
        settings["terminals_available"] = False
        if self.expose_app_in_browser:
            settings.setdefault("page_config_data", {})["exposeAppInBrowser"] = True

    def initialize_handlers(self):
        super().initialize_handlers()
        self.handlers.append((r"/api/me", MeHandler))
        self.handlers.append((r"/api/events/subscribe", EventsHandler))


def main(argv):
    if not os.path.exists(os.path.join(BUILD, "bundle.js")):
        sys.exit(
            f"OTP Lab: {BUILD}/bundle.js is missing: build the app with `node lab/ensure.mjs` "
            "(npm start does it)"
        )
    # A flag of ours, taken out before jupyter_server parses the rest (it merges an extension's aliases
    # into its own, not its flags).
    if "--expose-app-in-browser" in argv:
        argv = [a for a in argv if a != "--expose-app-in-browser"]
        argv.append("--OTPLabApp.expose_app_in_browser=True")
    OTPLabApp.launch_instance(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
