-- PostgreSQL twin of migrations/0011: the same table, kept right by plpgsql triggers that do
-- what SQLite's do. (A new PostgreSQL database is empty, so there is nothing to backfill.)
CREATE TABLE character_pictures (
    character_id   BIGINT  NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    image_id       BIGINT  NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    favorite_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (character_id, image_id)
);
CREATE INDEX ix_character_pictures_favs
    ON character_pictures (character_id, favorite_count DESC, image_id DESC);
CREATE INDEX ix_character_pictures_image ON character_pictures (image_id);

-- A picture is listed under its own character, or (a scene) under each visible character.
CREATE FUNCTION list_picture(picture images) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO character_pictures (character_id, image_id, favorite_count)
        SELECT picture.character_id, picture.id, picture.favorite_count
        WHERE picture.scene_id IS NULL
        UNION ALL
        SELECT sc.character_id, picture.id, picture.favorite_count FROM scene_characters AS sc
        WHERE sc.scene_id = picture.scene_id AND sc.hidden = 0
    ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION tr_images_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_picture(NEW);
    RETURN NULL;
END $$;
CREATE TRIGGER tr_images_listed AFTER INSERT ON images
    FOR EACH ROW EXECUTE FUNCTION tr_images_listed();

CREATE FUNCTION tr_images_relisted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM character_pictures WHERE image_id = OLD.id;
    PERFORM list_picture(NEW);
    RETURN NULL;
END $$;
CREATE TRIGGER tr_images_relisted AFTER UPDATE OF character_id, scene_id ON images
    FOR EACH ROW
    WHEN (OLD.character_id IS DISTINCT FROM NEW.character_id
          OR OLD.scene_id IS DISTINCT FROM NEW.scene_id)
    EXECUTE FUNCTION tr_images_relisted();

CREATE FUNCTION tr_images_favorites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE character_pictures SET favorite_count = NEW.favorite_count WHERE image_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER tr_images_favorites AFTER UPDATE OF favorite_count ON images
    FOR EACH ROW WHEN (OLD.favorite_count IS DISTINCT FROM NEW.favorite_count)
    EXECUTE FUNCTION tr_images_favorites();

-- (A deleted picture leaves character_pictures through its ON DELETE CASCADE key; SQLite's
-- tr_images_unlisted does the same by hand.)

-- A visible cast member lists every picture of the scene.
CREATE FUNCTION list_scene_for(scene BIGINT, member BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO character_pictures (character_id, image_id, favorite_count)
        SELECT member, i.id, i.favorite_count FROM images AS i WHERE i.scene_id = scene
    ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION tr_scene_characters_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_scene_for(NEW.scene_id, NEW.character_id);
    RETURN NULL;
END $$;
CREATE TRIGGER tr_scene_characters_listed AFTER INSERT ON scene_characters
    FOR EACH ROW WHEN (NEW.hidden = 0) EXECUTE FUNCTION tr_scene_characters_listed();

CREATE FUNCTION tr_scene_characters_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM character_pictures WHERE character_id = OLD.character_id
        AND image_id IN (SELECT id FROM images WHERE scene_id = OLD.scene_id);
    IF NEW.hidden = 0 THEN
        PERFORM list_scene_for(NEW.scene_id, NEW.character_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tr_scene_characters_hidden AFTER UPDATE OF hidden ON scene_characters
    FOR EACH ROW WHEN (OLD.hidden IS DISTINCT FROM NEW.hidden)
    EXECUTE FUNCTION tr_scene_characters_hidden();

CREATE FUNCTION tr_scene_characters_unlisted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM character_pictures WHERE character_id = OLD.character_id
        AND image_id IN (SELECT id FROM images WHERE scene_id = OLD.scene_id);
    RETURN NULL;
END $$;
CREATE TRIGGER tr_scene_characters_unlisted AFTER DELETE ON scene_characters
    FOR EACH ROW EXECUTE FUNCTION tr_scene_characters_unlisted();
