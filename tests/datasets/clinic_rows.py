"""The clinic's appointments the row-rules tests share: Dana's rows and the others'."""

from __future__ import annotations

CLINIC = (
    "id,doctor,patient,minutes,note\n"
    "1,dana,Alma Quist,30,visit\n"
    "2,omar,Bruno Zell,45,visit\n"
    "3,dana,Carla Vint,15,visit\n"
    "4,omar,Dario Yupp,60,visit\n"
    "5,nils,Elsa Wrenn,20,visit\n"
    "6,dana,Fabio Xant,25,visit\n"
)
DANA = {"Alma Quist", "Carla Vint", "Fabio Xant"}
OTHERS = {"Bruno Zell", "Dario Yupp", "Elsa Wrenn"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_only_dana(text: str) -> None:
    for name in DANA:
        assert name in text, name
    for name in OTHERS:
        assert name not in text, name
