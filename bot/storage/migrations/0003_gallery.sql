-- Gallery and favorites (issue #9).

-- A picture posted again from the gallery ("open"): reactions on that copy count as
-- favorites too, and deleting the character removes the copy along with the original.
CREATE TABLE picture_posts (
    message_id INTEGER PRIMARY KEY,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    created_at REAL    NOT NULL
);
CREATE INDEX ix_picture_posts_image ON picture_posts (image_id);

-- "Most favorited" pages of one member and of one character, without a sort step.
CREATE INDEX ix_images_owner_favs ON images (guild_id, owner_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_character_favs ON images (character_id, favorite_count DESC, id DESC);

-- A member's own favorites, for export and delete-my-data.
CREATE INDEX ix_favorites_user ON favorites (user_id);
