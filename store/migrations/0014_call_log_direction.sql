-- Calls to and from trunks in the call log: direction is '' between the
-- office's own phones, 'in' from a provider, 'out' through a trunk. An
-- outside number that did not answer a call out is nobody's missed call.
-- (Numbered after 0012/0013, which another branch has taken.)
ALTER TABLE call_log ADD COLUMN direction TEXT NOT NULL DEFAULT '';
