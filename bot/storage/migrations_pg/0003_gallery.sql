CREATE TABLE picture_posts (
    message_id BIGINT PRIMARY KEY,
    image_id   BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX ix_picture_posts_image ON picture_posts (image_id);
CREATE INDEX ix_images_owner_favs ON images (guild_id, owner_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_character_favs ON images (character_id, favorite_count DESC, id DESC);
CREATE INDEX ix_favorites_user ON favorites (user_id);
