//! The pull side of the LAS coupling (UWLR), against a fake UWLR server.
