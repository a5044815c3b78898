"""Spanish cardinal numbers in words, for transcripts that say what the voice says.

    >>> numero_a_letras(2023)
    'dos mil veintitrés'
    >>> numero_a_letras(21, "femenino") + " " + "manzanas"
    'veintiuna manzanas'
"""

from __future__ import annotations

MAX_NUMBER = 999_999_999

_UNIDADES = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")
_DIEZ_A_VEINTINUEVE = (
    "diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete",
    "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés",
    "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve",
)
_DECENAS = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
_CENTENAS = (
    "", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos",
    "seiscientos", "setecientos", "ochocientos", "novecientos",
)
# How "1" is said at the end of a group: alone ("veintiuno"), before a
# masculine noun or mil/millón ("veintiún libros", "veintiún mil") or before
# a feminine noun ("veintiuna manzanas").
_FORMAS_UNO = {None: "uno", "masculino": "un", "femenino": "una"}


def _grupo(n: int, uno: str, femenino: bool) -> str:
    """1..999 in words; ``uno`` is the form of a final 1, ``femenino`` turns -cientos into -cientas."""
    centenas, resto = divmod(n, 100)
    partes = []
    if centenas:
        palabra = "cien" if centenas == 1 and resto == 0 else _CENTENAS[centenas]
        partes.append(palabra[:-2] + "as" if femenino and centenas > 1 else palabra)
    if resto == 1:
        partes.append(uno)
    elif resto == 21:
        partes.append({"uno": "veintiuno", "un": "veintiún", "una": "veintiuna"}[uno])
    elif 1 < resto < 10:
        partes.append(_UNIDADES[resto])
    elif 10 <= resto < 30:
        partes.append(_DIEZ_A_VEINTINUEVE[resto - 10])
    elif resto >= 30:
        decenas, unidad = divmod(resto, 10)
        final = "" if unidad == 0 else " y " + (uno if unidad == 1 else _UNIDADES[unidad])
        partes.append(_DECENAS[decenas] + final)
    return " ".join(partes)


def numero_a_letras(n: int, genero: str | None = None) -> str:
    """A whole number as Spanish words, the way it is read aloud.

    Parameters
    ----------
    n : int
        0 to 999 999 999.
    genero : str or None
        ``None`` for the number on its own (``21 -> "veintiuno"``);
        ``"masculino"`` before a masculine noun (``"veintiún"``, ``"un"``);
        ``"femenino"`` before a feminine one (``"veintiuna"``, ``"doscientas"``).
        Millions are always masculine (``"doscientos millones"``).

    Returns
    -------
    str
        Lower case, accents included: ``16 -> "dieciséis"``,
        ``1_000 -> "mil"`` (never "un mil"), ``2_500_000 -> "dos millones quinientos mil"``.

    Raises
    ------
    ValueError
        ``n`` is not an int in range, or ``genero`` is unknown.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"numero_a_letras: expected an integer from 0 to {MAX_NUMBER:_}, got {n!r}")
    if genero not in _FORMAS_UNO:
        raise ValueError(f"numero_a_letras: genero must be None, 'masculino' or 'femenino', got {genero!r}")
    if n == 0:
        return "cero"
    femenino = genero == "femenino"
    millones, resto = divmod(n, 1_000_000)
    miles, unidades = divmod(resto, 1000)
    partes = []
    if millones:
        partes.append("un millón" if millones == 1 else _grupo(millones, "un", False) + " millones")
    if miles:
        partes.append("mil" if miles == 1 else _grupo(miles, "un", femenino) + " mil")
    if unidades:
        partes.append(_grupo(unidades, _FORMAS_UNO[genero], femenino))
    return " ".join(partes)


def cantidad(n: int, singular: str, plural: str, genero: str) -> str:
    """``n`` things in words with agreement: ``una manzana``, ``veintiún libros``,
    ``un millón de personas``.

    ``genero`` is ``"m"`` or ``"f"``, the noun's grammatical gender.
    """
    palabras = numero_a_letras(n, "femenino" if genero == "f" else "masculino")
    if n == 1:
        return f"{palabras} {singular}"
    # A round number of millions takes "de" before the noun, like a noun would.
    de = " de" if n % 1_000_000 == 0 else ""
    return f"{palabras}{de} {plural}"
