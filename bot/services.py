"""The core services, built once from settings and handed to the Discord layer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.characters import CharacterService
from bot.config import Settings
from bot.expressions import ExpressionService
from bot.favorite_reactions import ReactionFavorites
from bot.gallery import GalleryService
from bot.guild_settings import GuildSettingsService
from bot.i18n import Catalog
from bot.images.service import openai_client
from bot.images.store import ImageStore
from bot.jobs.board import QueueBoard
from bot.jobs.creator import CreatorRequests
from bot.jobs.limiter import RateLimiter
from bot.jobs.posts import JobPosts
from bot.jobs.queue import JobQueue
from bot.jobs.runner import JobRunner
from bot.jobs.submit import PictureRequests
from bot.mydata import MyDataService
from bot.ops.cockpit import Cockpit
from bot.ops.metrics import Metrics
from bot.ops.openai_watch import OpenAIHealth, WatchedImageService
from bot.ops.retention import RetentionService
from bot.pictures import PictureService
from bot.quotas import QuotaService
from bot.scenes import SceneService
from bot.status import StatusService
from bot.storage import Storage
from bot.takedowns import MessageTakedowns
from bot.usage import UsageService

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    storage: Storage
    images: WatchedImageService
    store: ImageStore
    queue: JobQueue
    queue_board: QueueBoard
    job_posts: JobPosts
    quotas: QuotaService
    requests: PictureRequests
    catalog: Catalog
    gallery: GalleryService
    characters: CharacterService
    pictures: PictureService
    mydata: MyDataService
    guild_settings: GuildSettingsService
    usage: UsageService
    limiter: RateLimiter
    cockpit: Cockpit
    status: StatusService
    retention: RetentionService
    scenes: SceneService
    creator: CreatorRequests  # reference sheets, avatars, cut-outs (bot/jobs/creator.py)
    expressions: ExpressionService  # server stickers and emoji (bot/expressions.py)
    takedowns: MessageTakedowns  # deleted pictures' messages, off Discord (bot/takedowns.py)
    # ⭐ reactions in Discord's order, held through storage faults (bot/favorite_reactions.py)
    reaction_favorites: ReactionFavorites

    @classmethod
    def build(cls, settings: Settings) -> Services:
        # Long: it is the one wiring list; every service, built in the order its
        # dependencies need, reads best as one sequence.
        storage = Storage(
            settings.database_path,
            settings.database_url,
            worker=settings.worker_name,  # this process, among those sharing the database
            lease_seconds=settings.job_lease_seconds,
            busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
        )
        metrics = Metrics()
        # The OpenAI wrapper with a stopwatch: latency and errors for /status and metrics.
        images = WatchedImageService(
            openai_client(
                settings.openai_api_key.get_secret_value(),
                settings.openai_base_url,
                settings.openai_timeout_seconds,
            ),
            moderation_model=settings.moderation_model,
            partial_images=settings.partial_images,
            metrics=metrics,
            health=OpenAIHealth(),
        )
        store = ImageStore(settings.images_dir)
        limiter = RateLimiter(
            concurrency=settings.max_concurrent_jobs,
            images_per_minute=settings.images_per_minute,
        )
        runner = JobRunner(storage, images, store, settings)
        queue = JobQueue(storage, runner, limiter, settings, store)
        quotas = QuotaService(storage, settings)
        queue.budget_check = quotas.recheck_budget
        catalog = Catalog.load()
        gallery = GalleryService(storage, store, catalog)
        queue.share_thumbnails(gallery.thumbnails)  # one repair lock for new and broken ones
        retention = RetentionService(storage, store)
        cockpit = Cockpit(settings, metrics, images.health, retention)
        requests = PictureRequests(storage, images, store, queue, quotas)
        takedowns = MessageTakedowns(storage, metrics)
        pictures = PictureService(storage, store, takedowns)
        # Held reactions are tried again as often as the jobs' held bookkeeping.
        reaction_favorites = ReactionFavorites(pictures, queue.faults.period, metrics)
        return cls(
            settings=settings,
            storage=storage,
            images=images,
            store=store,
            queue=queue,
            queue_board=QueueBoard(storage, queue),
            job_posts=JobPosts(storage, takedowns, shares_queue=settings.shares_queue),
            quotas=quotas,
            requests=requests,
            catalog=catalog,
            gallery=gallery,
            characters=CharacterService(storage, store, catalog, gallery, takedowns),
            pictures=pictures,
            mydata=MyDataService(storage, store, takedowns, reaction_favorites),
            guild_settings=GuildSettingsService(storage),
            usage=UsageService(storage, settings),
            limiter=limiter,
            cockpit=cockpit,
            status=StatusService(storage, store, limiter, quotas, cockpit),
            retention=retention,
            scenes=SceneService(storage, requests, images),
            creator=CreatorRequests(requests),
            expressions=ExpressionService(storage, store, pictures),
            takedowns=takedowns,
            reaction_favorites=reaction_favorites,
        )

    async def open(self) -> None:
        await self.storage.open()

    async def close(self) -> None:
        await self.reaction_favorites.close()  # before storage: it may be writing
        await self.images.close()
        await self.storage.close()
