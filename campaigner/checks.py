"""What a platform would refuse in a rendered post, known before anything is sent.

An empty text, more images than the platform takes, an image of a type or size it refuses: each is
found here from the adapter's declared capabilities, so `validate` reports it and `post` refuses it
before a campaign goes out half-published (one platform refusing what another accepted).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

from campaigner import adapters
from campaigner.errors import Problem, problem_at

if TYPE_CHECKING:
    from campaigner.calendar import Media
    from campaigner.render import Post

_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP", "image/bmp": "BMP", "image/tiff": "TIFF"}


def image_facts(path: Any) -> tuple[str | None, int] | None:
    """(MIME type from the file's first bytes or None, size in bytes), or None when it cannot be read."""
    from campaigner.adapters.base import image_type

    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None  # a missing file is the calendar loader's error
    return image_type(head), size


def post_problems(post: Post, options: Any = None) -> list[Problem]:
    """Everything the post's platform would refuse (errors) or lose (warnings), located at its event."""
    try:
        cls = adapters.adapter_class(post.platform)
    except KeyError:
        return []
    event, label = post.event, cls.label or post.platform
    where = (event.file, event.line, 1)
    problems = []
    if not post.text.strip():
        problems.append(problem_at(*where, f"event '{event.id}': the {post.language} post for {post.account} is empty: "
                                           "write its text in the template, or leave the account out of the event's accounts"))
    media: tuple[Media, ...] = post.media
    if not media:
        return problems
    if len(media) > cls.max_images:
        takes = f"at most {cls.max_images} images per post" if cls.max_images else "no images"
        problems.append(problem_at(*where, f"event '{event.id}': {len(media)} images, but {label} takes {takes} ({post.account}): "
                                           "remove some, or give this account an event of its own"))
    accepted = ", ".join(sorted(_NAMES.get(t, t) for t in cls.image_types))
    for item in media:
        facts = image_facts(item.path)
        if facts is None:
            continue
        mime, size = facts
        if mime not in cls.image_types:
            what = f"a {_NAMES.get(mime, mime)} image" if mime else "not an image (its first bytes match no image format)"
            problems.append(problem_at(*where, f"event '{event.id}': {item.written} is {what}; {label} takes {accepted} ({post.account}): convert it"))
        elif cls.max_image_bytes is not None and size > cls.max_image_bytes:
            problems.append(problem_at(*where, f"event '{event.id}': {item.written} is {size:,} bytes; {label} takes images up to "
                                               f"{cls.max_image_bytes:,} bytes ({post.account}): make it smaller"))
        if item.alt and not cls.alt_text:
            problems.append(problem_at(*where, f"event '{event.id}': {label} has no alt text for images: the description of {item.written} "
                                               f"will not reach {post.account}'s readers; say what the picture shows in the text", "warning"))
        elif item.alt and cls.max_alt_length and len(item.alt) > cls.max_alt_length:
            problems.append(problem_at(*where, f"event '{event.id}': the alt text of {item.written} is {len(item.alt):,} characters; "
                                               f"{label} keeps {cls.max_alt_length:,}: it will be cut", "warning"))
    if cls.caption_length is not None and post.length > cls.caption_length:
        problems.append(problem_at(*where, f"event '{event.id}': the {post.language} post for {post.account} is {post.length:,} characters, "
                                           f"over {label}'s {cls.caption_length:,} for a text sent with images: the images go first and the "
                                           "text follows as a reply; shorten it to keep them together", "warning"))
    return problems


def refusals(posts: Iterable[Any]) -> list[Problem]:
    """The errors of `post_problems` for posts about to be sent (briefings and unknown platforms are skipped)."""
    return [p for post in posts if hasattr(post, "media") for p in post_problems(post) if p.severity == "error"]
