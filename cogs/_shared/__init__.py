"""Helpers every cog shares: catalog lookups and the one reply path. Not an extension."""
