"""The phone page's screens, a module each (shared parts in ``mobile.pages``)."""
