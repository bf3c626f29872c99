"""What the SDK answers before the company's code processes anything: ``may_process``,
``may_disclose``, and the guards built on them (a block, a decorator), mixed into
:class:`pledge.sdk.Pledge`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from pledge.enforcement.model import Decision
from pledge.errors import ProcessingDenied, UsageError

if TYPE_CHECKING:
    from pledge.app import Runtime

P = ParamSpec("P")
R = TypeVar("R")


class Guards:
    """Decisions and the guards built on them; needs ``runtime`` and ``actor``."""

    runtime: Runtime
    actor: str

    def may_process(
        self, subject_id: str, purpose: str, categories: Sequence[str] | None = None
    ) -> Decision:
        """Whether a purpose may process these categories of the person's data now.

        Args:
            subject_id: the person.
            purpose: a declared purpose.
            categories: the data categories; None for all the purpose declares.

        Returns:
            The decision (truthy when allowed), with its reason.

        Raises:
            NotFound: no such subject or purpose.
        """
        return self.runtime.decider.may_process(subject_id, purpose, categories, actor=self.actor)

    def may_disclose(
        self,
        subject_id: str,
        recipient: str,
        categories: Sequence[str] | None = None,
        purpose: str | None = None,
    ) -> Decision:
        """Whether the person's data may be disclosed to a recipient now.

        Args:
            subject_id: the person.
            recipient: a declared recipient.
            categories: the categories to disclose; None for all it receives for the purpose.
            purpose: the purpose of the disclosure; may be omitted when the recipient
                receives data for one purpose only.

        Returns:
            The decision (truthy when allowed), with its reason.

        Raises:
            NotFound: no such subject, recipient or purpose.
            UsageError: no purpose given and the recipient has several.
        """
        return self.runtime.decider.may_disclose(
            subject_id, recipient, categories, purpose, actor=self.actor
        )

    @contextmanager
    def processing(
        self, subject_id: str, purpose: str, categories: Sequence[str] | None = None
    ) -> Iterator[Decision]:
        """A block that runs only if the purpose may process the data::

            with pledge.processing(ann, "newsletter", ["contact.email"]):
                send_newsletter(ann)

        Args:
            subject_id: the person.
            purpose: a declared purpose.
            categories: the data categories; None for all the purpose declares.

        Yields:
            The allowing decision.

        Raises:
            ProcessingDenied: the purpose may not run (before the block starts); the
                exception carries the decision.
        """
        decision = self.may_process(subject_id, purpose, categories)
        if not decision.allowed:
            raise ProcessingDenied(decision)
        yield decision

    def requires(
        self, purpose: str, categories: Sequence[str] | None = None
    ) -> Callable[[Callable[Concatenate[str, P], R]], Callable[Concatenate[str, P], R]]:
        """A decorator for functions whose first argument is the subject id::

            @pledge.requires("analytics", ["usage.pages"])
            def track(subject_id: str, page: str) -> None: ...

        Coroutine functions are supported too.

        Args:
            purpose: a declared purpose.
            categories: the data categories; None for all the purpose declares.

        Returns:
            The decorator; the decorated function raises ProcessingDenied instead of running
            when the purpose may not process the subject's data.
        """
        frozen = None if categories is None else tuple(categories)

        def decorate(
            function: Callable[Concatenate[str, P], R],
        ) -> Callable[Concatenate[str, P], R]:
            first = next(iter(inspect.signature(function).parameters), None)
            if first is None:
                raise UsageError(f"{function.__name__} takes no subject id to check")

            def subject_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
                subject_id = args[0] if args else kwargs.get(first)
                if not isinstance(subject_id, str):
                    raise UsageError(f"{function.__name__} was called without a subject id")
                return subject_id

            guarded: Callable[..., Any]
            if inspect.iscoroutinefunction(function):

                async def guarded_coroutine(*args: Any, **kwargs: Any) -> Any:
                    self._require(subject_of(args, kwargs), purpose, frozen)
                    return await function(*args, **kwargs)

                guarded = guarded_coroutine
            else:

                def guarded_function(*args: Any, **kwargs: Any) -> Any:
                    self._require(subject_of(args, kwargs), purpose, frozen)
                    return function(*args, **kwargs)

                guarded = guarded_function
            functools.update_wrapper(guarded, function)
            return cast(Callable[Concatenate[str, P], R], guarded)

        return decorate

    def _require(self, subject_id: str, purpose: str, categories: Sequence[str] | None) -> None:
        decision = self.may_process(subject_id, purpose, categories)
        if not decision.allowed:
            raise ProcessingDenied(decision)


__all__ = ["Guards"]
