-- DUO's registry of school locations ("alle vestigingen"), loaded by `leerpoort import duo`:
-- the official name and address of every location, by BRIN6. A location a later file no
-- longer lists is kept, marked gone (closed, merged or renumbered at DUO); a file that lists
-- it again brings it back. A school whose BRIN6 is listed carries DUO's name.
CREATE TABLE duo_locations (
    brin6           TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,                       -- VESTIGINGSNAAM
    street          TEXT NOT NULL DEFAULT '',            -- STRAATNAAM
    house_number    TEXT NOT NULL DEFAULT '',            -- HUISNUMMER-TOEVOEGING
    postcode        TEXT NOT NULL DEFAULT '',
    place           TEXT NOT NULL DEFAULT '',            -- PLAATSNAAM
    municipality    TEXT NOT NULL DEFAULT '',            -- GEMEENTENAAM
    province        TEXT NOT NULL DEFAULT '',            -- PROVINCIE
    board_number    TEXT NOT NULL DEFAULT '',            -- BEVOEGD GEZAG NUMMER
    first_seen_at   BIGINT NOT NULL,
    seen_at         BIGINT NOT NULL,                     -- the last load that listed it
    gone_at         BIGINT                               -- no longer listed since this load
);
