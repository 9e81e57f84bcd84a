"""The summary page's form: what to group by and what to compute. Sent by GET (a summary
changes nothing, and its link can be bookmarked with the view's filters beside it), so it has
no CSRF token; every choice is checked against the dataset's columns and the known functions,
and anything else is a sentence beside the field."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, RadioField, SelectField
from wtforms.fields.choices import SelectChoice

from ..reading import summary
from ..storage import Column

TYPE_WORDS = {
    "text": "text",
    "integer": "whole numbers",
    "real": "numbers",
    "date": "dates",
    "datetime": "dates and times",
    "boolean": "yes or no",
}
MEASURE_FIELDS = (("fn1", "of1"), ("fn2", "of2"), ("fn3", "of3"))


class SummaryForm(Form):
    by = SelectField("Group by", validate_choice=False)
    by_period = SelectField("Its dates by", validate_choice=False)
    then = SelectField("Then by", validate_choice=False)
    then_period = SelectField("Its dates by ", validate_choice=False)
    fn1 = SelectField("Compute", validate_choice=False)
    of1 = SelectField("Of", validate_choice=False)
    fn2 = SelectField("And", validate_choice=False)
    of2 = SelectField("Of ", validate_choice=False)
    fn3 = SelectField("And ", validate_choice=False)
    of3 = SelectField("Of  ", validate_choice=False)
    layout = RadioField(
        "Show two groupings",
        choices=[SelectChoice("list", "as a list"), SelectChoice("pivot", "as a pivot table")],
        default="list",
        validate_choice=False,
    )

    def __init__(self, formdata: MultiDict, columns: list[Column]) -> None:
        super().__init__(formdata)
        for field in self._fields.values():
            field.errors = []  # filled by plan(), not by WTForms' own validation
        self.columns = {c.name: c for c in columns}
        column_choices = [SelectChoice(c.name, c.label) for c in columns]
        periods = [
            SelectChoice(k, v) for k, v in [("", "the date itself"), *summary.PERIODS.items()]
        ]
        self.by.choices = [SelectChoice("", "Choose a column"), *column_choices]
        self.then.choices = [SelectChoice("", "nothing more"), *column_choices]
        self.by_period.choices = periods
        self.then_period.choices = list(periods)
        functions = [SelectChoice(k, v) for k, v in summary.FUNCTIONS.items()]
        for index, (fn, of) in enumerate(MEASURE_FIELDS):
            first = [] if index == 0 else [SelectChoice("", "nothing more")]
            getattr(self, fn).choices = [*first, *functions]
            getattr(self, of).choices = [SelectChoice("", "—"), *column_choices]
        if not self.fn1.data:
            self.fn1.data = "count"
        if self.layout.data not in ("list", "pivot"):
            self.layout.data = "list"

    @property
    def asked(self) -> bool:
        """Whether the person has chosen a grouping yet (before that the page explains)."""
        return bool(self.by.data)

    def _column(self, field, required: bool) -> Column | None:
        name = field.data or ""
        if not name:
            if required:
                field.errors.append("Choose a column.")
            return None
        if name not in self.columns:
            field.errors.append(f"“{name[:30]}” is not a column of this dataset.")
            return None
        return self.columns[name]

    def _period(self, field, column: Column | None) -> str:
        period = field.data or ""
        if period and period not in summary.PERIODS:
            field.errors.append(f"“{period[:30]}” is not a period: choose day, week, month, …")
            return ""
        if period and column is not None and column.type not in summary.DATES:
            field.errors.append(f"{column.label} holds no dates: leave this as the value itself.")
            return ""
        return period

    def plan(self) -> tuple[list[summary.Grouping], list[summary.Measure]] | None:
        """The groupings and measures asked for, or None with the fields' errors set."""
        groupings = []
        first = self._column(self.by, required=True)
        by_period = self._period(self.by_period, first)
        if first is not None:
            groupings.append(summary.Grouping(first, by_period))
        second = self._column(self.then, required=False)
        then_period = self._period(self.then_period, second)
        if second is not None:
            if first is not None and second.name == first.name:
                self.then.errors.append("Choose a different column from the first.")
            else:
                groupings.append(summary.Grouping(second, then_period))
        measures = []
        for fn_name, of_name in MEASURE_FIELDS:
            fn, of = getattr(self, fn_name), getattr(self, of_name)
            function = fn.data or ""
            if not function:
                continue
            if function not in summary.FUNCTIONS:
                fn.errors.append(f"“{function[:30]}” is not something a summary computes.")
                continue
            if function == "count":
                measures.append(summary.Measure("count"))
                continue
            column = self._column(of, required=True)
            if column is None:
                continue
            if column.type not in summary.FUNCTION_TYPES[function]:
                kind = "number" if function in summary.NUMBER_FUNCTIONS else "number, date or text"
                of.errors.append(
                    f"{summary.FUNCTIONS[function]} needs a {kind} column: "
                    f"{column.label} holds {TYPE_WORDS.get(column.type, column.type)}."
                )
                continue
            measures.append(summary.Measure(function, column))
        if not measures and not self.errors:
            self.fn1.errors.append("Choose what to compute.")
        if self.errors:
            return None
        return groupings, measures

    @property
    def errors(self) -> dict:
        return {name: f.errors for name, f in self._fields.items() if f.errors}
