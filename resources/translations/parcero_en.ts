<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>DataPage</name>
    <message numerus="yes">
        <source>%Ln utterance(s)</source>
        <translation>
            <numerusform>%Ln utterance</numerusform>
            <numerusform>%Ln utterances</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln unreadable line(s) skipped</source>
        <translation>
            <numerusform>%Ln unreadable line skipped</numerusform>
            <numerusform>%Ln unreadable lines skipped</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ImportPanel</name>
    <message numerus="yes">
        <source>Wrote %Ln utterance(s) to {path}.</source>
        <translation>
            <numerusform>Wrote %Ln utterance to {path}.</numerusform>
            <numerusform>Wrote %Ln utterances to {path}.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>VoiceCompare</name>
    <message numerus="yes">
        <source>%n unreadable recording(s) left out</source>
        <translation>
            <numerusform>%n unreadable recording left out</numerusform>
            <numerusform>%n unreadable recordings left out</numerusform>
        </translation>
    </message>
</context>
</TS>
