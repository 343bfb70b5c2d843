-- Message-waiting lights for phones that never SUBSCRIBE: deskpbx sends
-- them message-summary NOTIFYs outside any subscription. Some phones
-- show such a NOTIFY wrongly or answer it with errors, so a tenant may
-- turn them off (its phones that subscribe keep their lights). On by
-- default, as before this column existed.
ALTER TABLE tenants ADD COLUMN mwi_unsolicited INTEGER NOT NULL DEFAULT 1 CHECK (mwi_unsolicited IN (0, 1));
