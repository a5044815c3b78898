"""Spanish sentences to synthesise: numbers in words, a template generator, user files.

Synthetic speech is only as useful as the text behind it, so the generator aims
at what a Spanish recogniser must get right: accents that change meaning
(``está``, ``compró``), ``ñ`` and ``ü`` (``niño``, ``pingüino``), questions and
exclamations with their opening marks, and numbers spoken as words
(``veintitrés``, ``dos mil veintiuno``), never as digits, because a transcript
must say what the voice says.

Sentences come from twenty templates filled from word lists written for this
project. Templates are drawn in rounds, each round a seeded shuffle of all of
them, and some templates always produce one of the rare characters (``ü``,
``ú``, ``ñ``, ``¿``, ``¡``), so every stretch of 40 consecutive sentences holds
every one of them. Output is deterministic for a seed, and a longer list starts
with the shorter one: ``generate_sentences(10, s) == generate_sentences(100, s)[:10]``.

    >>> numero_a_letras(2023)
    'dos mil veintitrés'
"""

from __future__ import annotations

import codecs
import random
import re
import unicodedata
from pathlib import Path

from engine.errors import ParceroError

from engine.data.numbers import cantidad, numero_a_letras  # noqa: F401 (numero_a_letras is re-exported)


# --- Word lists -------------------------------------------------------------
# Written for Parcero. "{nombre}", "{ciudad}" and "{n}" (2 to 20) are filled in
# last, each occurrence drawn on its own.

NOMBRES = (
    "Lucía", "Raúl", "Begoña", "Andrés", "Inés", "José", "Ramón", "Sofía", "Martín", "Óscar",
    "Ángela", "Jesús", "Verónica", "Íñigo", "Mónica", "Julián", "Nuria", "Tomás", "Elena",
    "Joaquín", "Marisol", "Héctor", "Rocío", "Adrián",
)
PERSONAS = (
    "mi hermana", "el niño", "la niña", "la señora Núñez", "mi abuelo", "la profesora", "el médico",
    "nuestra vecina", "el camarero", "mi compañero de piso", "la panadera", "tu primo",
    "el señor Peña", "mi tía", "el cartero", "la alcaldesa", "tu hermano", "mi abuela",
    "la enfermera", "el conductor del autobús",
)
GRUPOS = (
    "mis padres", "los niños", "las vecinas", "nuestros amigos", "los estudiantes", "mis primos",
    "las enfermeras", "los turistas", "mis abuelos", "los músicos", "las niñas", "{nombre} y {nombre}",
)
CIUDADES = (
    "Bogotá", "Cádiz", "Málaga", "Córdoba", "Medellín", "Mérida", "Jaén", "León", "Panamá",
    "Asunción", "Valparaíso", "Guadalajara", "Sevilla", "Quito", "Lima", "Montevideo", "Cartagena",
    "Cuenca", "Bilbao", "Oaxaca", "Cusco", "San José", "Logroño", "La Coruña",
)
MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre")
PASADO = (
    "ayer", "anoche", "anteayer", "el lunes", "el martes pasado", "el miércoles", "la semana pasada",
    "el año pasado", "esta mañana", "el sábado por la tarde", "el domingo por la mañana",
    "el verano pasado", "hace {n} días", "hace {n} semanas", "en marzo",
)
HABITUAL = (
    "todos los días", "cada mañana", "los domingos", "los miércoles por la tarde", "a menudo",
    "casi siempre", "todos los años", "por las noches", "de vez en cuando", "los fines de semana",
    "dos veces por semana", "cada verano",
)
FUTURO = (
    "mañana", "pasado mañana", "el próximo año", "la semana que viene", "el jueves", "esta noche",
    "dentro de {n} días", "el mes que viene", "en diciembre", "el viernes por la noche",
    "mañana por la mañana", "este fin de semana",
)
ANTES = (
    "antes", "en aquella época", "hace muchos años", "cuando éramos jóvenes",
    "cuando vivíamos en {ciudad}", "en los años ochenta", "todos los veranos", "durante la universidad",
)
LUGARES = (
    "en el parque", "en la biblioteca", "en la cocina", "en el jardín", "en casa", "en la oficina",
    "en el pueblo", "en la playa", "en el café de la esquina", "en la escuela", "en el salón",
    "en {ciudad}",
)
# (infinitive, objects, whether "en <place>" may follow)
ESCENAS = (
    ("leer", ("el periódico", "una novela de misterio", "las noticias", "un libro de cocina",
              "los mensajes de {nombre}", "un cuento a los niños"), True),
    ("escuchar", ("la radio", "música clásica", "las noticias de la mañana", "un disco de tangos"), True),
    ("limpiar", ("la cocina", "el baño", "las ventanas", "el garaje", "la casa entera"), False),
    ("preparar", ("el desayuno", "la cena", "una tortilla de patatas", "café para todos",
                  "un pastel de chocolate", "una sopa de verduras"), False),
    ("tocar", ("la guitarra", "el piano", "el violín", "la batería", "el acordeón"), True),
    ("visitar", ("a la abuela", "el museo de arte", "a los vecinos", "la catedral", "el zoológico",
                 "a un amigo enfermo"), False),
    ("cocinar", ("arroz con pollo", "lentejas", "pescado al horno", "una paella enorme"), False),
    ("escribir", ("una carta", "un poema", "un correo a la profesora", "la lista de la compra",
                  "un informe largo"), True),
    ("beber", ("café con leche", "té verde", "zumo de naranja", "agua fría", "chocolate caliente"), True),
    ("estudiar", ("inglés", "matemáticas", "historia del arte", "química", "geografía",
                  "francés"), True),
    ("pintar", ("la puerta del garaje", "un paisaje", "un retrato de la abuela",
                "las paredes del salón"), False),
    ("lavar", ("los platos", "el coche", "la ropa", "las toallas"), False),
    ("comprar", ("pan", "fruta", "un regalo para {nombre}", "billetes de tren", "flores",
                 "un paraguas nuevo", "el periódico"), True),
    ("vender", ("fruta", "pan", "la bicicleta vieja", "pasteles", "el coche"), True),
    ("abrir", ("la tienda", "las ventanas", "una cuenta en el banco", "el buzón"), False),
    ("buscar", ("las llaves", "un piso más grande", "trabajo", "el mando de la tele"), True),
    ("aprender", ("alemán", "a nadar", "a conducir", "a tocar la guitarra", "canciones nuevas"), True),
    ("recibir", ("una carta", "un paquete", "buenas noticias", "un mensaje de {nombre}"), False),
    ("cuidar", ("el jardín", "a los niños", "a la abuela", "las plantas del balcón"), False),
    ("organizar", ("una fiesta", "la excursión", "el viaje a {ciudad}", "una cena con amigos"), False),
    ("reparar", ("la bicicleta", "el grifo de la cocina", "la radio vieja", "el tejado"), False),
    ("ver", ("una película", "el partido", "las estrellas", "el atardecer"), True),
    ("practicar", ("natación", "el piano", "yoga", "español"), True),
    ("pagar", ("la cuenta", "el alquiler", "la factura de la luz"), False),
    ("celebrar", ("el cumpleaños de {nombre}", "el fin de curso", "la Navidad"), True),
)
INTRANSITIVOS = (
    ("caminar", ("por la playa", "por el parque", "junto al río")),
    ("pasear", ("por el centro", "por la orilla del mar")),
    ("trabajar", ("en una fábrica de zapatos", "en el hospital", "en el campo", "en una librería")),
    ("vivir", ("en un pueblo pequeño", "cerca del mar", "en el centro de {ciudad}")),
    ("nadar", ("en el río", "en la piscina municipal")),
    ("bailar", ("en la plaza del pueblo", "en las fiestas de agosto")),
    ("correr", ("por el parque", "por la orilla del río")),
    ("cantar", ("en el coro de la iglesia", "en un grupo de música")),
    ("desayunar", ("en el café de la esquina", "en la terraza")),
    ("descansar", ("en el jardín", "bajo el árbol grande", "junto a la chimenea")),
)
# (singular, plural, gender)
COMIDA = (
    ("manzana", "manzanas", "f"), ("naranja", "naranjas", "f"), ("pera", "peras", "f"),
    ("fresa", "fresas", "f"), ("galleta", "galletas", "f"), ("empanada", "empanadas", "f"),
    ("zanahoria", "zanahorias", "f"), ("sandía", "sandías", "f"), ("piña", "piñas", "f"),
    ("cebolla", "cebollas", "f"), ("mandarina", "mandarinas", "f"), ("huevo", "huevos", "m"),
    ("tomate", "tomates", "m"), ("limón", "limones", "m"), ("plátano", "plátanos", "m"),
    ("aguacate", "aguacates", "m"), ("melón", "melones", "m"), ("pastel", "pasteles", "m"),
    ("mango", "mangos", "m"), ("durazno", "duraznos", "m"), ("pimiento", "pimientos", "m"),
)
LUGAR_COMIDA = {
    "comprar": ("en el mercado", "en la feria del pueblo", "en la tienda de la esquina",
                "en el supermercado"),
    "vender": ("en el mercado", "en la feria del pueblo", "en la plaza"),
    "lavar": ("en la cocina", "para la ensalada"),
    "pelar": ("para la ensalada", "para el postre", "en la cocina"),
    "guardar": ("en la nevera", "en una caja de cartón", "en la despensa"),
    "comer": ("en el jardín", "en la playa", "durante el viaje"),
    "compartir": ("con los vecinos", "con los niños", "con todo el equipo"),
}

# --- Verbs ------------------------------------------------------------------
# Persons: 0 yo, 1 tú, 2 él/ella, 3 nosotros, 4 ellos. Regular verbs follow the
# endings below; the few irregular forms used are spelled out.

_TERMINACIONES = {
    ("presente", "ar"): ("o", "as", "a", "amos", "an"),
    ("presente", "er"): ("o", "es", "e", "emos", "en"),
    ("presente", "ir"): ("o", "es", "e", "imos", "en"),
    ("preterito", "ar"): ("é", "aste", "ó", "amos", "aron"),
    ("preterito", "er"): ("í", "iste", "ió", "imos", "ieron"),
    ("preterito", "ir"): ("í", "iste", "ió", "imos", "ieron"),
    ("imperfecto", "ar"): ("aba", "abas", "aba", "ábamos", "aban"),
    ("imperfecto", "er"): ("ía", "ías", "ía", "íamos", "ían"),
    ("imperfecto", "ir"): ("ía", "ías", "ía", "íamos", "ían"),
    ("futuro", "ar"): ("é", "ás", "á", "emos", "án"),
}
_IRREGULARES = {
    ("leer", "preterito"): ("leí", "leíste", "leyó", "leímos", "leyeron"),
    ("ver", "presente"): ("veo", "ves", "ve", "vemos", "ven"),
    ("ver", "preterito"): ("vi", "viste", "vio", "vimos", "vieron"),
    ("ver", "imperfecto"): ("veía", "veías", "veía", "veíamos", "veían"),
    ("sentir", "preterito"): ("sentí", "sentiste", "sintió", "sentimos", "sintieron"),
    ("pedir", "preterito"): ("pedí", "pediste", "pidió", "pedimos", "pidieron"),
}
IR = ("voy", "vas", "va", "vamos", "van")
MODALES = (
    ("tengo que", "tienes que", "tiene que", "tenemos que", "tienen que"),
    ("quiero", "quieres", "quiere", "queremos", "quieren"),
    ("puedo", "puedes", "puede", "podemos", "pueden"),
    ("necesito", "necesitas", "necesita", "necesitamos", "necesitan"),
    ("prefiero", "prefieres", "prefiere", "preferimos", "prefieren"),
)


def conjugar(infinitivo: str, tiempo: str, persona: int) -> str:
    """One form of a verb: ``tiempo`` is presente, preterito, imperfecto or futuro."""
    if (infinitivo, tiempo) in _IRREGULARES:
        return _IRREGULARES[infinitivo, tiempo][persona]
    if tiempo == "futuro":
        # The future adds its endings to the whole infinitive, for every conjugation.
        return infinitivo + _TERMINACIONES["futuro", "ar"][persona]
    raiz, clase = infinitivo[:-2], infinitivo[-2:]
    if tiempo == "preterito" and persona == 0 and clase == "ar":
        # Spelling keeps the sound before é: busqué, llegué, organicé.
        for fin, cambio in (("c", "qu"), ("g", "gu"), ("z", "c")):
            if raiz.endswith(fin):
                raiz = raiz[: -len(fin)] + cambio
    return raiz + _TERMINACIONES[tiempo, clase][persona]


# --- Template helpers -----------------------------------------------------------

def _persona3(r: random.Random) -> str:
    return r.choice(NOMBRES) if r.random() < 0.4 else r.choice(PERSONAS)


def _sujeto(r: random.Random) -> tuple[str, int]:
    """A subject and its person; yo and nosotros stay implicit, as Spanish speakers say them."""
    persona = r.choice((0, 2, 2, 3, 4))
    texto = {0: "", 2: _persona3(r), 3: "", 4: r.choice(GRUPOS)}[persona]
    return texto, persona


def _verbo(r: random.Random, infinitivo: str, tiempo: str, persona: int) -> str:
    if tiempo == "futuro" and r.random() < 0.4:
        return f"{IR[persona]} a {infinitivo}"  # "vamos a pintar": as common as the future
    return conjugar(infinitivo, tiempo, persona)


def _accion(r: random.Random, tiempo: str, persona: int) -> str:
    """Verb, object and maybe a place: "preparó la cena", "caminaba por la playa"."""
    if r.random() < 0.25:
        # "vivir" describes a span of time; "ayer vivimos en Lima" would be odd.
        opciones = [v for v in INTRANSITIVOS if tiempo == "imperfecto" or v[0] != "vivir"]
        infinitivo, complementos = r.choice(opciones)
        return f"{_verbo(r, infinitivo, tiempo, persona)} {r.choice(complementos)}"
    infinitivo, objetos, con_lugar = r.choice(ESCENAS)
    texto = f"{_verbo(r, infinitivo, tiempo, persona)} {r.choice(objetos)}"
    if con_lugar and r.random() < 0.3:
        texto += " " + r.choice(LUGARES)
    return texto


def _con_tiempo(r: random.Random, cuando: str, resto: str) -> str:
    """Put the time expression first or last; a first "cuando..." clause takes a comma."""
    if r.random() < 0.5:
        return f"{cuando}{',' if cuando.startswith('cuando') else ''} {resto}"
    return f"{resto} {cuando}"


def _concordar(adjetivo: str, genero: str, plural: bool) -> str:
    if adjetivo.endswith("o") and genero == "f":
        adjetivo = adjetivo[:-1] + "a"
    return adjetivo + ("s" if plural else "")


def _hora(r: random.Random) -> str:
    """ "a las siete y media", "a la una menos cuarto"."""
    h = r.randint(1, 12)
    texto = "a la una" if h == 1 else f"a las {numero_a_letras(h)}"
    minutos = r.choice(("", " en punto", " y cuarto", " y media", " menos cuarto", " y diez",
                        " y veinte", " menos cinco", " y cinco"))
    partes = [p for ok, p in ((6 <= h <= 11, " de la mañana"), (1 <= h <= 7, " de la tarde"),
                               (h >= 8, " de la noche")) if ok]
    if minutos != " en punto" and r.random() < 0.4:
        minutos += r.choice(partes)
    return texto + minutos


def _pequeno(r: random.Random) -> int:
    return r.randint(2, 99) if r.random() < 0.8 else r.randint(100, 999)


def _pregunta(*partes: str) -> str:
    return "¿" + " ".join(p for p in partes if p) + "?"


def _exclamacion(*partes: str) -> str:
    return "¡" + " ".join(p for p in partes if p) + "!"


# --- Templates --------------------------------------------------------------
# Each takes the stream's Random and returns one sentence, before capitals and
# placeholders. The ones marked "always" are what guarantees the rare marks.

def _t_cantidad(r: random.Random) -> str:
    verbo = r.choice(tuple(LUGAR_COMIDA))
    singular, plural, genero = r.choice(COMIDA)
    sujeto, persona = _sujeto(r)
    tiempo, cuando = r.choice((("preterito", PASADO), ("futuro", FUTURO)))
    resto = (f"{sujeto} {_verbo(r, verbo, tiempo, persona)} "
             f"{cantidad(_pequeno(r), singular, plural, genero)} {r.choice(LUGAR_COMIDA[verbo])}")
    return _con_tiempo(r, r.choice(cuando), resto)


def _t_habito(r: random.Random) -> str:
    sujeto, persona = _sujeto(r)
    return _con_tiempo(r, r.choice(HABITUAL), f"{sujeto} {_accion(r, 'presente', persona)}")


def _t_pasado(r: random.Random) -> str:
    sujeto, persona = _sujeto(r)
    return _con_tiempo(r, r.choice(PASADO), f"{sujeto} {_accion(r, 'preterito', persona)}")


def _t_futuro(r: random.Random) -> str:
    sujeto, persona = _sujeto(r)
    return _con_tiempo(r, r.choice(FUTURO), f"{sujeto} {_accion(r, 'futuro', persona)}")


def _t_imperfecto(r: random.Random) -> str:
    sujeto, persona = _sujeto(r)
    return _con_tiempo(r, r.choice(ANTES), f"{sujeto} {_accion(r, 'imperfecto', persona)}")


def _t_dieresis(r: random.Random) -> str:  # always ü
    sujeto, persona = _sujeto(r)
    opcion = r.randrange(5)
    if opcion == 0:
        animal, plural, acciones = r.choice((
            ("el pingüino", False, ("nadar en el agua helada", "caminar despacio por la nieve",
                                    "comer pescado fresco", "llegar al zoológico de {ciudad}")),
            ("la cigüeña", False, ("descansar sobre el campanario", "buscar ranas junto al río",
                                   "regresar a la torre de la iglesia")),
        ))
        if r.random() < 0.4:
            animal = {"el pingüino": "los pingüinos", "la cigüeña": "las cigüeñas"}[animal]
            plural = True
        verbo, complemento = r.choice(acciones).split(" ", 1)
        tiempo, cuando = r.choice((("preterito", PASADO), ("presente", HABITUAL), ("futuro", FUTURO)))
        return _con_tiempo(r, r.choice(cuando),
                           f"{animal} {conjugar(verbo, tiempo, 4 if plural else 2)} {complemento}")
    if opcion == 1:
        motivo = r.choice(("al cantar delante de todo el colegio", "al llegar tarde a la reunión",
                           "al olvidar el cumpleaños de {nombre}", "cuando todos empezaron a reír",
                           "al tropezar en medio de la plaza"))
        return f"{sujeto} {conjugar('sentir', 'preterito', persona)} mucha vergüenza {motivo}"
    if opcion == 2:
        idiomas = r.sample(("inglés", "francés", "alemán", "quechua", "euskera", "catalán",
                            "portugués"), 2)
        quien, es, habla = r.choice(((_persona3(r), "es bilingüe", "habla"),
                                     (r.choice(GRUPOS), "son bilingües", "hablan")))
        return f"{quien} {es} y {habla} español, {idiomas[0]} y {idiomas[1]}"
    if opcion == 3:
        tiempo, cuando = r.choice((("preterito", PASADO), ("futuro", FUTURO), ("imperfecto", ANTES)))
        return _con_tiempo(r, r.choice(cuando),
                           f"{sujeto} {_verbo(r, 'estudiar', tiempo, persona)} lingüística en {{ciudad}}")
    return r.choice((
        f"{sujeto} {conjugar('comprar', 'preterito', persona)} un reloj en la tienda de antigüedades",
        "el paraguas mojado está en el paragüero de la entrada",
        "hay que arreglar el desagüe del patio antes del invierno",
        f"la tienda de antigüedades abre {_hora(r)}",
    ))


def _t_enie(r: random.Random) -> str:  # always ñ
    opcion = r.randrange(4)
    if opcion == 0:
        return f"el cumpleaños de {{nombre}} es el {numero_a_letras(r.randint(1, 28))} de {r.choice(MESES)}"
    sujeto, persona = _sujeto(r)
    if opcion == 1:
        tiempo, cuando = r.choice((("preterito", ("el año pasado", "el otoño pasado")),
                                   ("futuro", ("el año que viene", "mañana por la mañana")),
                                   ("presente", ("todos los años", "cada mañana"))))
        return _con_tiempo(r, r.choice(cuando), f"{sujeto} {_accion(r, tiempo, persona)}")
    if opcion == 2:
        quien, persona = r.choice((("el niño", 2), ("la niña", 2), ("los niños", 4), ("las niñas", 4),
                                   ("mi compañera", 2), ("el señor Peña", 2), ("mis compañeros", 4)))
        return _con_tiempo(r, r.choice(PASADO), f"{quien} {_accion(r, 'preterito', persona)}")
    return f"{sujeto} {conjugar('pasar', 'preterito', persona)} el otoño en una montaña de {{ciudad}}"


def _t_u_aguda(r: random.Random) -> str:  # always ú
    sujeto, persona = _sujeto(r)
    opcion = r.randrange(5)
    if opcion == 0:
        genero = r.choice(("clásica", "andina", "tradicional", "latina", "de los años setenta"))
        verbo = r.choice(("escuchar", "tocar"))
        return _con_tiempo(r, r.choice(HABITUAL),
                           f"{sujeto} {conjugar(verbo, 'presente', persona)} música {genero}")
    if opcion == 1:
        vehiculo = r.choice(("el último tren", "el último autobús", "el último vuelo"))
        return f"{vehiculo} a {{ciudad}} sale {_hora(r)}"
    if opcion == 2:
        return r.choice((f"el número de la habitación es el {numero_a_letras(r.randint(100, 999))}",
                         f"mi número de teléfono termina en {numero_a_letras(r.randint(10, 99))}"))
    if opcion == 3:
        return _con_tiempo(r, r.choice(PASADO),
                           f"{sujeto} {conjugar('pedir', 'preterito', persona)} el menú del día")
    return _con_tiempo(r, r.choice(FUTURO), f"{sujeto} {_verbo(r, 'viajar', 'futuro', persona)} a Perú")


def _t_edad(r: random.Random) -> str:  # "años": always ñ
    opcion = r.randrange(3)
    anio = numero_a_letras(r.randint(1935, 2030))
    if opcion == 0:
        quien = _persona3(r)
        edad = r.randint(2, 12) if "niñ" in quien else r.randint(18, 99)
        return f"{quien} tiene {cantidad(edad, 'año', 'años', 'm')}"
    if opcion == 1:
        sujeto, persona = _sujeto(r)
        return f"{sujeto} {conjugar('nacer', 'preterito', persona)} en {{ciudad}} en el año {anio}"
    pareja = r.choice(("mis abuelos", "mis padres", "los señores Peña", "{nombre} y {nombre}"))
    return (f"{pareja} cumplen {cantidad(r.randint(2, 60), 'año', 'años', 'm')} de casados "
            f"el {numero_a_letras(r.randint(2, 28))} de {r.choice(MESES)}")


def _t_medida(r: random.Random) -> str:
    opcion = r.randrange(5)
    if opcion == 0:
        cosa, lo, hi = r.choice((("el kilo de tomates", 1, 9), ("la entrada del museo", 3, 30),
                                 ("el billete de autobús", 1, 5), ("esta camisa", 15, 80),
                                 ("la bicicleta roja", 120, 900), ("el alquiler del piso", 400, 2500)))
        moneda = r.choice((("euro", "euros"), ("dólar", "dólares"), ("peso", "pesos")))
        centimos = " con cincuenta" if hi < 10 and r.random() < 0.5 else ""
        return f"{cosa} cuesta {cantidad(r.randint(lo, hi), *moneda, 'm')}{centimos}"
    if opcion == 1:
        lugar, lo, hi = r.choice((("el pueblo de mis abuelos", 2, 90), ("nuestro barrio", 50, 900),
                                  ("la isla", 10, 500), ("la ciudad vecina", 100, 9000)))
        return f"{lugar} tiene {cantidad(r.randint(lo, hi) * 100, 'habitante', 'habitantes', 'm')}"
    if opcion == 2:
        cosa = r.choice(("esa montaña", "el volcán", "el pico más alto de la sierra"))
        return f"{cosa} mide {cantidad(r.randint(800, 6900), 'metro', 'metros', 'm')} de altura"
    if opcion == 3:
        return f"el viaje de {{ciudad}} a {{ciudad}} dura {cantidad(r.randint(1, 30), 'hora', 'horas', 'f')}"
    lugar, cosa = r.choice((("en el estadio", ("persona", "personas", "f")),
                            ("en la biblioteca", ("libro", "libros", "m")),
                            ("en el concierto", ("persona", "personas", "f"))))
    return f"{lugar} había {cantidad(r.randint(1000, 99999), *cosa)}"


def _t_hora(r: random.Random) -> str:
    opcion = r.randrange(4)
    if opcion == 0:
        vehiculo = r.choice(("el tren", "el autobús", "el avión"))
        return f"{vehiculo} de {{ciudad}} {r.choice(('sale', 'llega'))} {_hora(r)}"
    if opcion == 1:
        evento = r.choice(("la reunión", "la clase de música", "la película", "el partido"))
        return f"{evento} {r.choice(('empieza', 'termina'))} {_hora(r)}"
    if opcion == 2:
        return f"nos vemos {_hora(r)} {r.choice(LUGARES)}"
    sujeto, persona = _sujeto(r)
    llegada = f"{sujeto} {conjugar('llegar', 'preterito', persona)} a casa {_hora(r)}"
    return _con_tiempo(r, r.choice(PASADO), llegada)


def _t_clima(r: random.Random) -> str:  # always í (día, frío)
    opcion = r.randrange(5)
    ciudad = "en {ciudad}"
    if opcion == 0:
        clima = r.choice(("mucho frío", "un frío helado", "un día precioso", "un día de mucho calor",
                          "un día gris"))
        return f"{r.choice(('hoy', 'esta tarde', 'otra vez'))} hace {clima} {ciudad}"
    if opcion == 1:
        previsto = r.choice(("según el pronóstico, ", "dicen que ", ""))
        return f"{previsto}{r.choice(FUTURO)} lloverá todo el día {ciudad}"
    if opcion == 2:
        sitio = r.choice(("la sierra", "las montañas de León", "el norte del país"))
        return _con_tiempo(r, r.choice(PASADO), f"nevó durante todo el día en {sitio}")
    if opcion == 3:
        grados = cantidad(r.randint(1, 45), "grado", "grados", "m")
        return _con_tiempo(r, r.choice(PASADO), f"la temperatura máxima del día fue de {grados} {ciudad}")
    cielo = r.choice(("nublado", "despejado", "gris"))
    return f"el cielo está {cielo} {r.choice(('todo el día', 'desde hace días', 'desde hace un día'))}"


def _t_tambien(r: random.Random) -> str:
    uno = _persona3(r)
    otro = r.choice(("yo", "nosotros", "su hermano", "mi prima", "{nombre}", "los vecinos"))
    infinitivo, objetos, _ = r.choice(ESCENAS)
    tiempo = r.choice(("presente", "preterito"))
    verbo = conjugar(infinitivo, tiempo, 2)
    if r.random() < 0.7:
        return f"{uno} {verbo} {r.choice(objetos)} y {otro} también"
    return f"{uno} no {verbo} {r.choice(objetos)} y {otro} tampoco"


def _t_ubicacion(r: random.Random) -> str:  # always á
    sitios = {
        "encima de": ("la mesa", "el sofá", "la cama", "la estantería", "el armario"),
        "debajo de": ("la mesa", "la cama", "el sofá", "el árbol del jardín"),
        "dentro de": ("el cajón de la cocina", "el armario de la entrada", "una caja de zapatos"),
        "al lado de": ("la puerta", "la ventana", "el árbol del jardín", "la televisión"),
        "detrás de": ("la puerta", "las cortinas", "el sofá"),
    }
    cosa, plural = r.choice((("las llaves del coche", True), ("mi paraguas", False),
                             ("el libro de música", False),
                             ("tus gafas", True), ("la carta del banco", False), ("el gato", False),
                             ("los juguetes del niño", True), ("el mando de la tele", False),
                             ("las fotos del viaje", True), ("el cargador del móvil", False)))
    prep = r.choice(tuple(sitios))
    lugar = f"{prep} {r.choice(sitios[prep])}".replace("de el ", "del ")
    return f"{cosa} {'están' if plural else 'está'} {lugar}"


def _t_necesidad(r: random.Random) -> str:
    sujeto, persona = _sujeto(r)
    infinitivo, objetos, _ = r.choice(ESCENAS)
    modal = r.choice(MODALES)[persona]
    return _con_tiempo(r, r.choice(FUTURO), f"{sujeto} {modal} {infinitivo} {r.choice(objetos)}")


def _t_donde(r: random.Random) -> str:  # always ¿ and ó
    opcion = r.randrange(5)
    if opcion == 0:
        cosa, plural = r.choice((("las llaves del coche", True), ("mi paraguas", False),
                                 ("la estación de tren", False), ("el baño", False),
                                 ("mis zapatos nuevos", True), ("la farmacia más cercana", False),
                                 ("el museo de historia", False), ("tus gafas de sol", True),
                                 ("la parada del autobús", False), ("tu hermana", False)))
        return _pregunta("dónde", "están" if plural else "está", cosa)
    if opcion == 1:
        infinitivo, objetos, _ = r.choice([e for e in ESCENAS if e[2]])
        return _pregunta("dónde", conjugar(infinitivo, "preterito", 1), r.choice(objetos))
    if opcion == 2:
        return _pregunta("dónde", r.choice(("vive", "trabaja", "estudia")), r.choice(PERSONAS),
                         r.choice(("ahora", "", "este año")))
    if opcion == 3:
        plan = r.choice(("cenar", "dormir", "comer", "celebrar el cumpleaños de {nombre}"))
        return _pregunta("dónde", r.choice(("vamos", "vas")), "a", plan, r.choice(FUTURO))
    return _pregunta("de dónde", r.choice(("es", "viene")), r.choice(PERSONAS))


def _t_cuantos(r: random.Random) -> str:  # always ¿ and á
    opcion = r.randrange(4)
    if opcion == 0:
        verbo = r.choice(tuple(LUGAR_COMIDA))
        _, plural, genero = r.choice(COMIDA)
        persona, sujeto = r.choice(((1, ""), (2, _persona3(r)), (4, r.choice(GRUPOS))))
        cuantos = "cuántas" if genero == "f" else "cuántos"
        return _pregunta(cuantos, plural, conjugar(verbo, "preterito", persona), sujeto,
                         r.choice(LUGAR_COMIDA[verbo]))
    if opcion == 1:
        return _pregunta("cuántos años", *r.choice((("tiene", _persona3(r)), ("tienen", r.choice(GRUPOS)))))
    if opcion == 2:
        return _pregunta("cuánto cuesta", r.choice(("el billete a {ciudad}", "la entrada del concierto",
                                                    "un kilo de manzanas", "el menú del día")))
    return _pregunta("cuántos días", r.choice(("vas", "vamos", "van")), "a pasar en {ciudad}")


def _t_pregunta(r: random.Random) -> str:  # always ¿
    opcion = r.randrange(7)
    if opcion == 0:
        vehiculo = r.choice(("el tren", "el autobús", "el avión"))
        return _pregunta("a qué hora", r.choice(("sale", "llega")), vehiculo, "de {ciudad}")
    if opcion == 1:
        infinitivo, objetos, _ = r.choice(ESCENAS)
        return _pregunta("por qué no", conjugar(infinitivo, "preterito", 1), r.choice(objetos),
                         r.choice(PASADO))
    if opcion == 2:
        infinitivo, objetos, _ = r.choice(ESCENAS)
        return _pregunta("quién", conjugar(infinitivo, "preterito", 2), r.choice(objetos), r.choice(PASADO))
    if opcion == 3:
        return _pregunta("qué", r.choice(("vas", "vamos", "van")), "a hacer", r.choice(FUTURO))
    if opcion == 4:
        return _pregunta("cómo se llama", r.choice(("tu profesora de música", "el perro de {nombre}",
                                                    "tu compañero de piso", "la novia de tu primo")))
    if opcion == 5:
        tiempo, cuando = r.choice((("presente", HABITUAL), ("preterito", PASADO), ("futuro", FUTURO)))
        infinitivo, objetos, _ = r.choice(ESCENAS)
        return _pregunta(conjugar(infinitivo, tiempo, 1), r.choice(objetos), r.choice(cuando))
    infinitivo, objetos, _ = r.choice(ESCENAS)
    return _pregunta("sabes si", _persona3(r), conjugar(infinitivo, "futuro", 2), r.choice(objetos),
                     r.choice(FUTURO))


def _t_que(r: random.Random) -> str:  # always ¡ and é
    opcion = r.randrange(4)
    if opcion == 0:
        cosa, genero, plural, adjetivos = r.choice((
            ("el jardín de {nombre}", "m", False, ("bonito", "grande", "verde")),
            ("la casa de tus abuelos", "f", False, ("bonito", "grande", "antiguo")),
            ("el árbol de la plaza", "m", False, ("alto", "viejo", "verde")),
            ("la playa", "f", False, ("tranquilo", "limpio", "bonito")),
            ("las montañas", "f", True, ("alto", "bonito", "verde")),
            ("los niños", "m", True, ("tranquilo", "alto", "contento")),
            ("el río", "m", False, ("limpio", "tranquilo", "frío")),
            ("la noche", "f", False, ("oscuro", "tranquilo", "frío")),
            ("las flores del balcón", "f", True, ("bonito", "grande")),
        ))
        verbo = ("están" if plural else "está") if r.random() < 0.6 else ("son" if plural else "es")
        return _exclamacion("qué", _concordar(r.choice(adjetivos), genero, plural), verbo, cosa)
    if opcion == 1:
        nombre, adjetivos, colas = r.choice((
            ("día", ("bonito", "largo", "tranquilo"), ("hace hoy", "hemos tenido")),
            ("canción", ("bonita", "alegre", "triste"), ("cantó {nombre}", "suena en la radio")),
            ("árbol", ("alto", "enorme", "antiguo"), ("hay en el parque", "plantó tu abuelo")),
            ("corazón", ("grande", "generoso"), ("tiene tu abuela", "tiene {nombre}")),
            ("película", ("divertida", "larga", "extraña"), ("vimos anoche", "eligió {nombre}")),
        ))
        return _exclamacion("qué", nombre, "tan", r.choice(adjetivos), r.choice(colas))
    if opcion == 2:
        motivo = r.choice(("verte por aquí,", "encontrarte en {ciudad},", "tenerte en casa,"))
        return _exclamacion("qué", r.choice(("alegría", "sorpresa", "suerte")), motivo, "{nombre}")
    return _exclamacion("qué bien", r.choice(("canta", "baila", "cocina", "toca el piano", "habla inglés")),
                        _persona3(r))


def _t_exclamacion(r: random.Random) -> str:  # always ¡
    opcion = r.randrange(7)
    if opcion == 0:
        return _exclamacion("feliz cumpleaños, {nombre},", r.choice(("y que cumplas muchos más",
                                                                     "te queremos mucho")))
    if opcion == 1:
        cosa = r.choice(("el perro", "la escalera", "los platos calientes", "el escalón de la entrada"))
        return _exclamacion("cuidado con", cosa + r.choice(("", ", {nombre}")))
    if opcion == 2:
        destino = r.choice(LUGARES).replace("en el ", "al ").replace("en la ", "a la ").replace("en ", "a ")
        return _exclamacion("vamos", destino, r.choice(FUTURO))
    if opcion == 3:
        _, plural, genero = r.choice(COMIDA)
        return _exclamacion("mira", "cuántas" if genero == "f" else "cuántos", plural, "hay en el mercado")
    if opcion == 4:
        deseo = r.choice(("haga buen tiempo", "no llueva", "ganemos el partido", "lleguemos a tiempo"))
        return _exclamacion("ojalá", deseo, r.choice(FUTURO))
    if opcion == 5:
        return _exclamacion("{nombre} ganó", cantidad(r.randint(20, 900_000), "euro", "euros", "m"),
                            "en la lotería")
    infinitivo, objetos, _ = r.choice(ESCENAS)
    return _exclamacion("no olvides", infinitivo, r.choice(objetos), r.choice(FUTURO))


PLANTILLAS = (
    _t_cantidad, _t_habito, _t_pasado, _t_futuro, _t_imperfecto, _t_dieresis, _t_enie, _t_u_aguda,
    _t_edad, _t_medida, _t_hora, _t_clima, _t_tambien, _t_ubicacion, _t_necesidad, _t_donde,
    _t_cuantos, _t_pregunta, _t_que, _t_exclamacion,
)
_PLACEHOLDER = re.compile(r"\{(nombre|ciudad|n)\}")


def _rellenar(r: random.Random, texto: str) -> str:
    """Fill each {nombre}, {ciudad} and {n} with its own draw."""
    def uno(m: re.Match) -> str:
        clave = m.group(1)
        if clave == "n":
            return numero_a_letras(r.randint(2, 20))
        return r.choice(NOMBRES if clave == "nombre" else CIUDADES)
    return _PLACEHOLDER.sub(uno, texto)


def _acabar(texto: str) -> str:
    """Capitalise the first letter (after any ¿ or ¡) and end with a full stop when no mark closes it."""
    texto = " ".join(texto.split())
    for i, ch in enumerate(texto):
        if ch.isalpha():
            texto = texto[:i] + ch.upper() + texto[i + 1:]
            break
    if texto[-1] not in ".?!":
        texto += "."
    return unicodedata.normalize("NFC", texto)


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` varied, grammatical Spanish sentences, deterministic for ``seed``.

    Parameters
    ----------
    n : int
        How many; 0 gives an empty list.
    seed : int

    Returns
    -------
    list[str]
        NFC text, capitalised and punctuated, mostly 4 to 14 words, numbers
        in words. A sentence already produced is drawn again (up to 30 times)
        so repeats are rare: fewer than 1 in 100 over the first thousand.
    """
    if n < 0:
        raise ValueError(f"generate_sentences: n must be >= 0, got {n}")
    rng = random.Random(seed)
    ronda: list = []
    vistas: set[str] = set()
    frases = []
    for _ in range(n):
        if not ronda:
            # Every template once per round, in a seeded order: this is what
            # puts every rare character in every 40 consecutive sentences.
            ronda = list(PLANTILLAS)
            rng.shuffle(ronda)
        plantilla = ronda.pop()
        for _intento in range(30):
            frase = _acabar(_rellenar(rng, plantilla(rng)))
            if frase not in vistas:
                break
        vistas.add(frase)
        frases.append(frase)
    return frases


def read_sentences(path: str | Path) -> list[str]:
    """Read a text file of sentences to synthesise, one a line.

    UTF-8 with or without a byte-order mark; blank lines and lines starting
    with ``#`` are skipped; each sentence is NFC-normalised with runs of
    spaces collapsed, so ``"que\\u0301"`` and ``"qué"`` become the same text.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list[str]
        At least one sentence.

    Raises
    ------
    ParceroError
        The file is missing, unreadable, not UTF-8 (the message gives the
        line), or holds no sentence.
    """
    path = Path(path)
    if not path.exists():
        raise ParceroError(f"{path}: sentence file not found")
    if path.is_dir():
        raise ParceroError(f"{path}: is a folder, expected a text file with one sentence a line")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ParceroError(f"{path}: cannot read the sentence file ({e.strerror or e})") from e
    if data.startswith(codecs.BOM_UTF8):
        # Windows Notepad writes one; it is not part of the first sentence.
        data = data[len(codecs.BOM_UTF8):]
    sentences = []
    for line_no, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ParceroError(
                f"{path}:{line_no}: not UTF-8 text ({e.reason} at byte {e.start + 1} of the line); "
                "save the file as UTF-8"
            ) from e
        line = " ".join(unicodedata.normalize("NFC", line).split())
        if line and not line.startswith("#"):
            sentences.append(line)
    if not sentences:
        raise ParceroError(f"{path}: no sentences (every line is blank or a # comment)")
    return sentences
