-- What each character's gallery filter lists (issue #22): its own pictures and the
-- pictures of every scene it is in, one row per (character, picture).
--
-- Why a table: the filter is paged by keyset, so it must walk one index in page order.
-- "own pictures OR scenes linked to it" spans two indexes (images by character,
-- scene_characters by character), and their union needs a sort of every matching row
-- (USE TEMP B-TREE). Here both orders have an index of their own:
--   newest     -> PRIMARY KEY (character_id, image_id)
--   favorites  -> ix_character_pictures_favs (character_id, favorite_count DESC, image_id DESC)
-- so favorite_count is copied from images and kept equal.
--
-- Why triggers: a row must come and go in the same transaction as the write that
-- changes what a character lists (a picture stored or deleted, starred, a scene's cast
-- recorded or re-recorded, a scene hidden from a character, a character taken out of
-- scenes by /mydata delete, a scene refiled under another character). Those writes live
-- in many places (favorites by reaction, retention, removal); triggers keep the table
-- right whichever path writes, including ones added later. A migration that rebuilds
-- images or scene_characters must create these triggers again.
--
-- Listed: an ordinary picture (scene_id IS NULL) under its own character; a scene's
-- picture under every character linked to the scene and not hidden by its owner.
-- Visibility (private characters, the server) is still decided at read time by the
-- character a picture is filed under (bot/storage/gallery.py).

CREATE TABLE character_pictures (
    character_id   INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    image_id       INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    favorite_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (character_id, image_id)
) WITHOUT ROWID;
CREATE INDEX ix_character_pictures_favs
    ON character_pictures (character_id, favorite_count DESC, image_id DESC);
CREATE INDEX ix_character_pictures_image ON character_pictures (image_id);

INSERT INTO character_pictures (character_id, image_id, favorite_count)
    SELECT character_id, id, favorite_count FROM images WHERE scene_id IS NULL;
INSERT OR IGNORE INTO character_pictures (character_id, image_id, favorite_count)
    SELECT sc.character_id, i.id, i.favorite_count
    FROM images AS i JOIN scene_characters AS sc ON sc.scene_id = i.scene_id
    WHERE sc.hidden = 0;

CREATE TRIGGER tr_images_listed AFTER INSERT ON images BEGIN
    INSERT OR IGNORE INTO character_pictures (character_id, image_id, favorite_count)
        SELECT NEW.character_id, NEW.id, NEW.favorite_count WHERE NEW.scene_id IS NULL
        UNION ALL
        SELECT sc.character_id, NEW.id, NEW.favorite_count FROM scene_characters AS sc
        WHERE sc.scene_id = NEW.scene_id AND sc.hidden = 0;
END;

-- A scene refiled under its next character (a character left it), or a picture that
-- stopped being a scene's: listed again from scratch.
CREATE TRIGGER tr_images_relisted AFTER UPDATE OF character_id, scene_id ON images
WHEN OLD.character_id IS NOT NEW.character_id OR OLD.scene_id IS NOT NEW.scene_id
BEGIN
    DELETE FROM character_pictures WHERE image_id = OLD.id;
    INSERT OR IGNORE INTO character_pictures (character_id, image_id, favorite_count)
        SELECT NEW.character_id, NEW.id, NEW.favorite_count WHERE NEW.scene_id IS NULL
        UNION ALL
        SELECT sc.character_id, NEW.id, NEW.favorite_count FROM scene_characters AS sc
        WHERE sc.scene_id = NEW.scene_id AND sc.hidden = 0;
END;

CREATE TRIGGER tr_images_favorites AFTER UPDATE OF favorite_count ON images
WHEN OLD.favorite_count IS NOT NEW.favorite_count
BEGIN
    UPDATE character_pictures SET favorite_count = NEW.favorite_count WHERE image_id = NEW.id;
END;

-- Also done by the foreign key; a trigger does not depend on PRAGMA foreign_keys.
CREATE TRIGGER tr_images_unlisted AFTER DELETE ON images BEGIN
    DELETE FROM character_pictures WHERE image_id = OLD.id;
END;

CREATE TRIGGER tr_scene_characters_listed AFTER INSERT ON scene_characters
WHEN NEW.hidden = 0
BEGIN
    INSERT OR IGNORE INTO character_pictures (character_id, image_id, favorite_count)
        SELECT NEW.character_id, i.id, i.favorite_count FROM images AS i
        WHERE i.scene_id = NEW.scene_id;
END;

CREATE TRIGGER tr_scene_characters_hidden AFTER UPDATE OF hidden ON scene_characters
WHEN OLD.hidden IS NOT NEW.hidden
BEGIN
    DELETE FROM character_pictures WHERE character_id = OLD.character_id
        AND image_id IN (SELECT id FROM images WHERE scene_id = OLD.scene_id);
    INSERT OR IGNORE INTO character_pictures (character_id, image_id, favorite_count)
        SELECT NEW.character_id, i.id, i.favorite_count FROM images AS i
        WHERE i.scene_id = NEW.scene_id AND NEW.hidden = 0;
END;

CREATE TRIGGER tr_scene_characters_unlisted AFTER DELETE ON scene_characters BEGIN
    DELETE FROM character_pictures WHERE character_id = OLD.character_id
        AND image_id IN (SELECT id FROM images WHERE scene_id = OLD.scene_id);
END;
