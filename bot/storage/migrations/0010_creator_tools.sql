-- Creator tools (issue #23): what a picture is. An ordinary picture, a reference sheet
-- (front, side, back and three expressions: the first reference of later variations) or an
-- avatar (a square head-and-shoulders portrait). Older pictures are ordinary.
ALTER TABLE images ADD COLUMN kind TEXT NOT NULL DEFAULT 'ordinary'
    CHECK (kind IN ('ordinary', 'sheet', 'avatar'));
-- The newest sheet of a character is looked up before every variation.
CREATE INDEX ix_images_character_kind ON images (character_id, kind, id DESC);
